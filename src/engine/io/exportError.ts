import { EngineError } from '../errors';

/** A model or tokenizer that an export format cannot hold (ONNX, the Hugging Face folder), said specifically. */
export class ExportError extends EngineError {
  override name = 'ExportError';
}
