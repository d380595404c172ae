/**
 * Microsoft Graph's published metadata (CSDL), read at run time: the stand-in takes the property
 * names, types, nullability and enum members of the types the connector writes from
 * metadata/graph-learning-csdl.xml (a verbatim copy of ../shared/reference/graph-learning-csdl.xml,
 * itself excerpted from microsoftgraph/msgraph-metadata), never from a list written here.
 */

import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';

/** A property type: a primitive (`Edm.String`), an enum, or a complex type, possibly a collection. */
export interface EdmTypeRef {
  /** Full name without `Collection(…)`, aliases resolved: `Edm.Int32`, `microsoft.graph.courseStatus`. */
  readonly name: string;
  readonly collection: boolean;
}

export interface EdmProperty {
  readonly name: string;
  readonly type: EdmTypeRef;
  /** CSDL `Nullable` (default true). */
  readonly nullable: boolean;
}

export interface EdmStructuredType {
  readonly kind: 'entity' | 'complex';
  /** Full name, e.g. `microsoft.graph.learningContent`. */
  readonly name: string;
  readonly baseType: string | undefined;
  /** Declared here and inherited, in declaration order (base first). */
  readonly properties: ReadonlyMap<string, EdmProperty>;
}

export interface EdmEnumType {
  readonly name: string;
  /** Member names in declaration order. */
  readonly members: readonly string[];
}

export interface EdmModel {
  structured(name: string): EdmStructuredType | undefined;
  enumType(name: string): EdmEnumType | undefined;
  /** True when `derived` is `base` or derives from it. */
  derivesFrom(derived: string, base: string): boolean;
}

const NAMESPACE = 'microsoft.graph';
/** Microsoft Graph's CSDL declares `<Schema Namespace="microsoft.graph" Alias="graph">`. */
const ALIASES: Readonly<Record<string, string>> = { graph: NAMESPACE };
/** The primitive types the stand-in can check; a property of another Edm type fails loading loudly. */
export const SUPPORTED_PRIMITIVES: ReadonlySet<string> = new Set(['Edm.String', 'Edm.Int32', 'Edm.Boolean', 'Edm.DateTimeOffset', 'Edm.Duration']);

/**
 * `graph.entity` is the base of every Graph entity; the excerpt leaves it out. In the full
 * metadata it declares only the key `<Key><PropertyRef Name="id"/></Key>` and
 * `<Property Name="id" Type="Edm.String" Nullable="false"/>`. Being the key, `id` is
 * service-generated on create, so it is never required in a request body.
 */
const ENTITY_BASE: EdmStructuredType = {
  kind: 'entity',
  name: `${NAMESPACE}.entity`,
  baseType: undefined,
  properties: new Map([['id', { name: 'id', type: { name: 'Edm.String', collection: false }, nullable: false }]]),
};

interface RawProperty {
  Name?: string;
  Type?: string;
  Nullable?: string;
}
interface RawStructured {
  Name?: string;
  BaseType?: string;
  Property?: RawProperty[];
}
interface RawEnum {
  Name?: string;
  Member?: { Name?: string }[];
}
interface RawSchema {
  EnumType?: RawEnum[];
  ComplexType?: RawStructured[];
  EntityType?: RawStructured[];
}

function qualify(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return `${NAMESPACE}.${name}`;
  const ns = name.slice(0, dot);
  return `${ALIASES[ns] ?? ns}.${name.slice(dot + 1)}`;
}

function typeRef(raw: string): EdmTypeRef {
  const m = /^Collection\((.+)\)$/.exec(raw);
  const inner = m?.[1] ?? raw;
  return { name: inner.startsWith('Edm.') ? inner : qualify(inner), collection: m !== undefined && m !== null };
}

const ELEMENT_LISTS = new Set(['EnumType', 'Member', 'ComplexType', 'EntityType', 'Property', 'NavigationProperty']);

/**
 * Finds the schema content. The shared excerpt wraps v1.0 and beta in <excerpts><v1.0>…<beta>
 * (identical for the learning types, graph-learning-api.md §2.1); the v1.0 part is used. A full
 * CSDL (<edmx:Edmx><edmx:DataServices><Schema>) is read from its microsoft.graph Schema.
 */
function findSchema(doc: Record<string, unknown>): RawSchema {
  const excerpts = doc['excerpts'] as Record<string, RawSchema> | undefined;
  if (excerpts?.['v1.0']) return excerpts['v1.0'];
  const edmx = doc['edmx:Edmx'] as Record<string, Record<string, unknown>> | undefined;
  const schemas = edmx?.['edmx:DataServices']?.['Schema'];
  const list = (Array.isArray(schemas) ? schemas : [schemas]) as (RawSchema & { Namespace?: string })[];
  const graph = list.find((s) => s?.Namespace === NAMESPACE);
  if (graph) return graph;
  throw new Error('The metadata has neither an <excerpts><v1.0> section nor a microsoft.graph <Schema>.');
}

/** Parses CSDL XML text into the model the validator reads. Throws on a shape it cannot read. */
export function parseCsdl(xml: string): EdmModel {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => ELEMENT_LISTS.has(name),
  });
  const schema = findSchema(parser.parse(xml) as Record<string, unknown>);

  const enums = new Map<string, EdmEnumType>();
  for (const e of schema.EnumType ?? []) {
    if (!e.Name) continue;
    const members = (e.Member ?? []).map((m) => m.Name).filter((n): n is string => typeof n === 'string');
    enums.set(qualify(e.Name), { name: qualify(e.Name), members });
  }

  const declared = new Map<string, { kind: 'entity' | 'complex'; raw: RawStructured }>();
  for (const raw of schema.ComplexType ?? []) if (raw.Name) declared.set(qualify(raw.Name), { kind: 'complex', raw });
  for (const raw of schema.EntityType ?? []) if (raw.Name) declared.set(qualify(raw.Name), { kind: 'entity', raw });

  const resolved = new Map<string, EdmStructuredType>([[ENTITY_BASE.name, ENTITY_BASE]]);
  const resolve = (name: string, seen: ReadonlySet<string>): EdmStructuredType | undefined => {
    const done = resolved.get(name);
    if (done) return done;
    const d = declared.get(name);
    if (!d) return undefined;
    if (seen.has(name)) throw new Error(`The metadata's type ${name} derives from itself.`);
    const baseType = d.raw.BaseType ? qualify(d.raw.BaseType) : undefined;
    const base = baseType ? resolve(baseType, new Set([...seen, name])) : undefined;
    if (baseType && !base) throw new Error(`The metadata's type ${name} derives from ${baseType}, which it does not declare.`);
    const properties = new Map<string, EdmProperty>(base?.properties ?? []);
    for (const p of d.raw.Property ?? []) {
      if (!p.Name || !p.Type) continue;
      const type = typeRef(p.Type);
      if (type.name.startsWith('Edm.') && !SUPPORTED_PRIMITIVES.has(type.name)) {
        throw new Error(`${name}.${p.Name} has type ${type.name}, which the stand-in cannot check yet.`);
      }
      properties.set(p.Name, { name: p.Name, type, nullable: p.Nullable !== 'false' });
    }
    const t: EdmStructuredType = { kind: d.kind, name, baseType, properties };
    resolved.set(name, t);
    return t;
  };
  for (const name of declared.keys()) resolve(name, new Set());

  return {
    structured: (name) => resolved.get(qualify(name)),
    enumType: (name) => enums.get(qualify(name)),
    derivesFrom(derived, base) {
      let t = resolved.get(qualify(derived));
      const target = qualify(base);
      while (t) {
        if (t.name === target) return true;
        t = t.baseType ? resolved.get(t.baseType) : undefined;
      }
      return false;
    },
  };
}

/** The metadata file shipped with the stand-in (copied to dist by scripts/copy-assets.mjs). */
export const METADATA_FILE = new URL('./metadata/graph-learning-csdl.xml', import.meta.url);

let loaded: EdmModel | undefined;

/** The learning types from the shipped metadata, parsed once per process. */
export function learningMetadata(): EdmModel {
  loaded ??= parseCsdl(readFileSync(METADATA_FILE, 'utf8'));
  return loaded;
}
