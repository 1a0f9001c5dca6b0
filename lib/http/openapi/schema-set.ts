import { z } from 'zod';

export type Json = Record<string, unknown>;

export const SCHEMA_REF = '#/components/schemas/';

/**
 * Converts zod schemas to JSON Schema (2020-12, OpenAPI 3.1's dialect) in one zod pass per
 * direction: request schemas as they are read (`input`: defaults optional, coercions as the
 * wire type), responses as they are written (`output`). On the response side the named
 * schemas become `$ref`s to components; everything else is inlined.
 */
export class SchemaSet {
  private readonly registry = z.registry<{ id: string }>();
  private readonly ids = new Map<z.ZodType, string>();
  private emitted: Record<string, Json> | null = null;
  private readonly io: 'input' | 'output';
  private readonly named: Record<string, z.ZodType>;
  /** Placeholder ids: never a component name, and distinct per set (placeholders of both sets meet in one tree). */
  private readonly prefix: string;

  constructor(io: 'input' | 'output', named: Record<string, z.ZodType> = {}) {
    this.io = io;
    this.named = named;
    this.prefix = `~${io}-`;
    for (const [name, schema] of Object.entries(named)) this.register(schema, name);
  }

  /** A placeholder for `schema`, resolved by `resolve()` once every schema is known. */
  add(schema: z.ZodType): Json {
    if (this.emitted) throw new Error('SchemaSet: add() after resolve()');
    return {
      $ref: `${SCHEMA_REF}${this.ids.get(schema) ?? this.register(schema, `${this.prefix}${this.ids.size}`)}`,
    };
  }

  private register(schema: z.ZodType, id: string): string {
    this.registry.add(schema, { id });
    this.ids.set(schema, id);
    return id;
  }

  /** Emits every schema and swaps each placeholder for a named `$ref` or the inlined schema. */
  resolve<T>(value: T): T {
    this.emitted ??= this.emit();
    const emitted = this.emitted;
    const walk = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(walk);
      if (node === null || typeof node !== 'object') return node;
      const ref = (node as Json).$ref;
      if (typeof ref === 'string' && ref.startsWith(`${SCHEMA_REF}${this.prefix}`)) {
        return walk(emitted[ref.slice(SCHEMA_REF.length)]);
      }
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child)]));
    };
    return walk(value) as T;
  }

  /** The named schemas, for `components.schemas`. */
  components(): Record<string, Json> {
    this.emitted ??= this.emit();
    const emitted = this.emitted;
    return Object.fromEntries(
      Object.keys(this.named).map((name) => [name, this.resolve(emitted[name] ?? {})]),
    );
  }

  private emit(): Record<string, Json> {
    const { schemas } = z.toJSONSchema(this.registry, {
      io: this.io,
      uri: (id) => `${SCHEMA_REF}${id}`,
      unrepresentable: 'throw',
    });
    return Object.fromEntries(
      Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema as Json]),
    );
  }
}
