/**
 * `npm run openapi`: writes both services' OpenAPI documents to docs/openapi/ and regenerates
 * @akm/client's types from them. Run it after changing a route's schemas.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openApiArtifacts } from './openapi-artifacts.js';

const root = resolve(import.meta.dirname, '..');
for (const [path, content] of Object.entries(await openApiArtifacts())) {
  writeFileSync(resolve(root, path), content);
  process.stdout.write(`wrote ${path}\n`);
}
