/** `npm run build:kernels`: assemble every .wat kernel in its variants and write the TypeScript module carrying their bytes. */
import { writeFileSync } from 'node:fs';
import { KERNELS, ROOT, assembleAll, renderModule } from './kernels';

for (const kernel of KERNELS) {
  const binaries = await assembleAll(kernel);
  writeFileSync(ROOT + kernel.module, renderModule(kernel, binaries));
  console.log(`${kernel.wat} → ${kernel.module} (${[...binaries].map(([v, b]) => `${v} ${b.length} bytes`).join(', ')})`);
}
