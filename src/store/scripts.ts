// Lua scripts of the operations modules (kill switches, API, heartbeats, statistics): reply codes first, then the file.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { luaCodeTable } from './codes.js';

const luaDir = join(dirname(fileURLToPath(import.meta.url)), 'lua');

/** The script `lua/{name}.lua` with the `CODE` table it reads its reply codes from. */
export function opsLua(name: string): string {
  return luaCodeTable() + readFileSync(join(luaDir, `${name}.lua`), 'utf8');
}
