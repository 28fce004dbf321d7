// The ceiling for bench/server/run.sh: a plain fastify route answering a fixed JSON body (what
// GET /api/v1/nodes answered), no auth, no store. Usage: node bench/server/ceiling.ts PORT BODY_FILE
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [port, file] = process.argv.slice(2);
const body = JSON.parse(readFileSync(file ?? 'body.json', 'utf8')) as unknown;
const app = Fastify();
app.get('/api/v1/nodes', (_req, reply) => reply.send(body));
await app.listen({ host: '127.0.0.1', port: Number(port) });
