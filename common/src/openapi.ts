/**
 * OpenAPI 3.1 documents built from the zod schemas the routes validate with (zod's own
 * `z.toJSONSchema`, JSON Schema 2020-12, the dialect of OpenAPI 3.1), so the document cannot
 * drift from the code: a request schema is the one the route parses with, a response schema
 * the one its view is typed by. Schemas named with `.meta({ id })` become components.
 */
import { z } from 'zod';
import { statusFor, type ErrorCode } from './errors.js';
import { problemSchema } from './problem-schema.js';

/** An HTTP method of an operation. */
export type ApiMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A response header, documented. */
export interface ApiHeader {
  description: string;
  schema?: z.ZodType;
}

/** One response of an operation. */
export interface ApiResponse {
  description: string;
  /** The body; none for 204. */
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
  headers?: Record<string, ApiHeader>;
}

/** One operation, described by the schemas its route uses. */
export interface ApiOperation {
  method: ApiMethod;
  /** The Express path, e.g. `/admin/keys/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  /** Security scheme names any one of which is accepted; none for a public route. */
  security?: readonly string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Whether a request must have the body. Default true. */
  bodyRequired?: boolean;
  /** Success (and other non-problem) answers, by status. */
  responses: Record<number, ApiResponse>;
  /** The problem codes this operation may answer; grouped by their status. */
  problems?: readonly ErrorCode[];
  /** Extra headers of a problem answer, by status (e.g. `Retry-After` with 429). */
  problemHeaders?: Record<number, Record<string, ApiHeader>>;
}

/** What a document says about its API as a whole. */
export interface ApiInfo {
  title: string;
  version: string;
  description: string;
  securitySchemes: Record<string, Record<string, unknown>>;
}

type Json = Record<string, unknown>;

const PROBLEM_TYPE = 'application/problem+json';

/** Converts zod schemas, collecting named ones as components. */
function createConverter() {
  const components: Record<string, Json> = {};
  const texts = new Map<string, string>();

  function hoist(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(hoist);
    if (value === null || typeof value !== 'object') return value;
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) out[k] = `#/components/schemas/${v.slice(8)}`;
      else out[k] = hoist(v);
    }
    return out;
  }

  function convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const { $schema: _dialect, $defs, ...rest } = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
    }) as Json & { $defs?: Record<string, Json> };
    for (const [id, def] of Object.entries($defs ?? {})) {
      const hoisted = hoist(def) as Json;
      const text = JSON.stringify(hoisted);
      if (texts.has(id) && texts.get(id) !== text) {
        // A named schema read as input and as output may differ (defaults, transforms).
        throw new Error(`OpenAPI: the schema named ${id} differs between uses; name its input and output apart`);
      }
      texts.set(id, text);
      components[id] = hoisted;
    }
    return hoist(rest) as Json;
  }

  return { convert, components };
}

const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Builds an OpenAPI 3.1 document from operations. */
export function buildOpenApiDocument(info: ApiInfo, operations: readonly ApiOperation[]): Json {
  const { convert, components } = createConverter();
  const problemRef = convert(problemSchema, 'output');
  const paths: Record<string, Record<string, Json>> = {};

  for (const op of operations) {
    const parameters: Json[] = [];
    for (const [where, schema] of [['path', op.params], ['query', op.query]] as const) {
      if (!schema) continue;
      const json = convert(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
      for (const [name, prop] of Object.entries(json.properties ?? {})) {
        const { description, ...propSchema } = prop;
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (json.required ?? []).includes(name),
          ...(typeof description === 'string' ? { description } : {}),
          schema: propSchema,
        });
      }
    }

    const responses: Record<string, Json> = {};
    for (const [status, response] of Object.entries(op.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.headers ? { headers: headersOf(response.headers, convert) } : {}),
        ...(response.schema ? { content: { [response.contentType ?? 'application/json']: { schema: convert(response.schema, 'output') } } } : {}),
      };
    }
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of op.problems ?? []) byStatus.set(statusFor(code), [...(byStatus.get(statusFor(code)) ?? []), code]);
    for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
      const headers = op.problemHeaders?.[status];
      responses[String(status)] = {
        description: codes.map((c) => `\`${c}\``).join(', '),
        ...(headers ? { headers: headersOf(headers, convert) } : {}),
        content: {
          [PROBLEM_TYPE]: {
            schema: { allOf: [problemRef, { type: 'object', properties: { code: { enum: codes } } }] },
          },
        },
      };
    }
    responses.default = {
      description: 'Any other problem: 413 `payload_too_large`, 500 `internal`, 503 `storage_failed`, …',
      content: { [PROBLEM_TYPE]: { schema: problemRef } },
    };

    const path = toOpenApiPath(op.path);
    paths[path] ??= {};
    paths[path][op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [...op.tags],
      security: (op.security ?? []).map((name) => ({ [name]: [] })),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: op.bodyRequired ?? true, content: { 'application/json': { schema: convert(op.body, 'input') } } } } : {}),
      responses,
    };
  }

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: { title: info.title, version: info.version, description: info.description },
    paths,
    components: { schemas: sortKeys(components), securitySchemes: info.securitySchemes },
  };
}

function headersOf(headers: Record<string, ApiHeader>, convert: (s: z.ZodType, io: 'input' | 'output') => Json): Json {
  return Object.fromEntries(
    Object.entries(headers).map(([name, h]) => [
      name,
      { description: h.description, schema: h.schema ? convert(h.schema, 'output') : { type: 'string' } },
    ]),
  );
}

function sortKeys(record: Record<string, Json>): Record<string, Json> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
