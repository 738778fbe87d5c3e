/**
 * An ONNX graph under construction, serialised as onnx.proto's messages with the hand-written protobuf
 * writer (protobuf.ts). Only what the GPT export needs: nodes with int / float / ints / tensor attributes,
 * float32 and int64 initializers (raw_data), and typed inputs and outputs with named dynamic dimensions.
 *
 * Field numbers, from onnx.proto (IR version 8, opset 17):
 *   ModelProto        ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7,
 *                     opset_import 8, metadata_props 14
 *   OperatorSetId     domain 1, version 2
 *   GraphProto        node 1, name 2, initializer 5, doc_string 10, input 11, output 12
 *   NodeProto         input 1, output 2, name 3, op_type 4, attribute 5
 *   AttributeProto    name 1, f 2, i 3, t 5, ints 8, type 20 (FLOAT 1, INT 2, TENSOR 4, INTS 7)
 *   TensorProto       dims 1, data_type 2 (FLOAT 1, INT64 7), name 8, raw_data 9
 *   ValueInfoProto    name 1, type 2;  TypeProto tensor_type 1;  TypeProto.Tensor elem_type 1, shape 2
 *   TensorShapeProto  dim 1;  Dimension dim_value 1, dim_param 2
 *   StringStringEntry key 1, value 2
 *
 * Every value has one producer (an input, an initializer or one node output): a second definition of a
 * name is refused at once, naming it, rather than making a graph every checker rejects.
 */
import { Message } from './protobuf';

export const IR_VERSION = 8;
export const OPSET = 17;

export const FLOAT = 1;
export const INT64 = 7;
export type ElemType = typeof FLOAT | typeof INT64;

/** A tensor dimension: a fixed size, or a name shared by every dimension that has the same run-time size. */
export type Dim = number | string;

export type AttrValue = { int: number } | { float: number } | { ints: number[] } | { tensor: TensorValue };

export interface TensorValue {
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export class OnnxGraphError extends Error {
  override name = 'OnnxGraphError';
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A tensor's little-endian bytes, as raw_data holds them (no copy on a little-endian machine). */
function rawBytes(data: Float32Array | BigInt64Array): Uint8Array {
  if (littleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return out;
}

function tensorProto(name: string, t: TensorValue): Message {
  const size = t.dims.reduce((a, b) => a * b, 1);
  if (size !== t.data.length) throw new OnnxGraphError(`tensor ${name}: dims [${t.dims}] hold ${size} values, data has ${t.data.length}`);
  const m = new Message().ints(1, t.dims).int(2, t.data instanceof Float32Array ? FLOAT : INT64);
  if (name) m.string(8, name);
  return m.bytes(9, rawBytes(t.data));
}

function attribute(name: string, v: AttrValue): Message {
  const m = new Message().string(1, name);
  if ('int' in v) return m.int(3, v.int).int(20, 2);
  if ('float' in v) return m.float(2, v.float).int(20, 1);
  if ('ints' in v) return m.ints(8, v.ints).int(20, 7);
  return m.message(5, tensorProto('', v.tensor)).int(20, 4);
}

function valueInfo(name: string, elem: ElemType, dims: readonly Dim[]): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, elem).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

export class OnnxGraph {
  private readonly nodes: Message[] = [];
  private readonly initializers: Message[] = [];
  private readonly inputs: Message[] = [];
  private readonly outputs: Message[] = [];
  private readonly defined = new Set<string>();
  private readonly outputNames = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private define(name: string, what: string): string {
    if (!name) throw new OnnxGraphError(`${what} has an empty name`);
    if (this.defined.has(name)) throw new OnnxGraphError(`the name "${name}" is defined twice in the graph (${what}): every value must have one producer`);
    this.defined.add(name);
    return name;
  }

  private requireDefined(name: string, user: string): void {
    if (!this.defined.has(name)) throw new OnnxGraphError(`${user} reads "${name}", which nothing defines (yet)`);
  }

  input(name: string, elem: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.define(name, 'an input'), elem, dims));
    return name;
  }

  /** Declares a value some node produces as a graph output, with its type and shape. */
  output(name: string, elem: ElemType, dims: readonly Dim[]): void {
    this.requireDefined(name, 'a graph output');
    if (this.outputNames.has(name)) throw new OnnxGraphError(`"${name}" is declared as an output twice`);
    this.outputNames.add(name);
    this.outputs.push(valueInfo(name, elem, dims));
  }

  initializer(name: string, t: TensorValue): string {
    this.initializers.push(tensorProto(this.define(name, 'an initializer'), t));
    return name;
  }

  /** A float32 scalar or vector constant, as an initializer with a generated name. */
  constFloat(values: number[], dims: number[] = values.length === 1 ? [] : [values.length], hint = 'const'): string {
    return this.initializer(this.fresh(hint), { dims, data: Float32Array.from(values) });
  }

  constInt64(values: number[], dims: number[] = values.length === 1 ? [] : [values.length], hint = 'const'): string {
    return this.initializer(this.fresh(hint), { dims, data: BigInt64Array.from(values.map(BigInt)) });
  }

  /** A name no other value has (hint_N). */
  fresh(hint: string): string {
    let n: string;
    do n = `${hint}_${this.counter++}`;
    while (this.defined.has(n));
    return n;
  }

  /**
   * Adds a node. `outputs` are the names of its outputs, or a hint from which one fresh name is made.
   * Returns the output names. An input '' is an omitted optional input.
   */
  node(op: string, inputs: readonly string[], outputs: string | readonly string[], attrs: Record<string, AttrValue> = {}): string[] {
    for (const i of inputs) if (i !== '') this.requireDefined(i, `node ${op}`);
    const outs = typeof outputs === 'string' ? [this.fresh(outputs)] : [...outputs];
    for (const o of outs) this.define(o, `an output of node ${op}`);
    const m = new Message();
    for (const i of inputs) m.string(1, i);
    for (const o of outs) m.string(2, o);
    m.string(3, `${op}_${this.nodes.length}`).string(4, op);
    for (const [k, v] of Object.entries(attrs)) m.message(5, attribute(k, v));
    this.nodes.push(m);
    return outs;
  }

  /** One-output node: its output's name. */
  op(op: string, inputs: readonly string[], hint = op.toLowerCase(), attrs: Record<string, AttrValue> = {}): string {
    return this.node(op, inputs, hint, attrs)[0];
  }

  /** The GraphProto: nodes in the order added (already topological: a node reads only earlier values). */
  private graphMessage(docString: string): Message {
    const g = new Message();
    for (const n of this.nodes) g.message(1, n);
    g.string(2, this.name);
    for (const t of this.initializers) g.message(5, t);
    if (docString) g.string(10, docString);
    for (const i of this.inputs) g.message(11, i);
    for (const o of this.outputs) g.message(12, o);
    return g;
  }

  /** The ModelProto: the graph with its opset, producer and string metadata. */
  model(opts: { producer: string; version: string; docString?: string; metadata?: Record<string, string> }): Message {
    const m = new Message()
      .int(1, IR_VERSION)
      .string(2, opts.producer)
      .string(3, opts.version)
      .message(7, this.graphMessage(opts.docString ?? ''))
      .message(8, new Message().string(1, '').int(2, OPSET));
    for (const [k, v] of Object.entries(opts.metadata ?? {})) m.message(14, new Message().string(1, k).string(2, v));
    return m;
  }
}
