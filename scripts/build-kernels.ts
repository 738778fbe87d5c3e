/** `npm run build:kernels`: assemble every .wat kernel and write the TypeScript module carrying its bytes. */
import { writeFileSync } from 'node:fs';
import { KERNELS, ROOT, assemble, renderModule } from './kernels';

for (const kernel of KERNELS) {
  const bytes = await assemble(kernel.wat);
  writeFileSync(ROOT + kernel.module, renderModule(kernel, bytes));
  console.log(`${kernel.wat} → ${kernel.module} (${bytes.length} bytes)`);
}
