// `berth registry serve|gc`: the OCI registry server as a command. It lives under cmd/ (a
// composition root) because the CLI proper only talks to berthd through the client.
import { parseArgs } from 'node:util';
import { errorMessage } from '../lib/errors.ts';
import { isLogLevel, log } from '../lib/logger.ts';
import { garbageCollect } from '../registry/server/gc.ts';
import { startRegistry } from '../registry/server/server.ts';
import { RegistryStorage } from '../registry/server/storage.ts';

const DEFAULT_STORAGE = '/var/lib/berth/registry';

export const REGISTRY_USAGE = `Usage:  berth registry COMMAND

Run an OCI distribution registry

Commands:
  serve       Serve the registry API (/v2/) on --addr
  gc          Delete blobs that no manifest refers to

Run 'berth registry COMMAND --help' for more information on a command.
`;

const SERVE_USAGE = `Usage:  berth registry serve [OPTIONS]

Serve the OCI distribution API (/v2/)

Options:
      --addr string            Address to listen on (default "127.0.0.1:5000")
      --storage string         Content directory (default "${DEFAULT_STORAGE}")
      --tls-cert string        TLS certificate (PEM); serve HTTPS with --tls-key
      --tls-key string         TLS private key (PEM)
      --htpasswd string        htpasswd file (bcrypt): Basic auth, or the users of --issue-tokens
      --token-realm string     Require bearer tokens from this token server (Docker's token flow)
      --token-key string       Token server's public key or certificate (PEM)
      --token-service string   Service name in tokens (default "berth-registry")
      --token-issuer string    Expected token issuer
      --issue-tokens           Serve /token and require its tokens
      --read-only              Refuse uploads, pushes and deletes
      --log-level string       Log level (default "info")
`;

const GC_USAGE = `Usage:  berth registry gc [OPTIONS]

Delete blobs no manifest refers to (stop the registry or run it --read-only meanwhile)

Options:
      --storage string    Content directory (default "${DEFAULT_STORAGE}")
  -m, --delete-untagged   Also delete manifests that no tag reaches
      --dry-run           Only print what would be deleted
`;

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      addr: { type: 'string' },
      storage: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      htpasswd: { type: 'string' },
      'token-realm': { type: 'string' },
      'token-key': { type: 'string' },
      'token-service': { type: 'string' },
      'token-issuer': { type: 'string' },
      'issue-tokens': { type: 'boolean' },
      'read-only': { type: 'boolean' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const level = values['log-level'] ?? 'info';
  if (!isLogLevel(level)) throw new Error(`invalid log level: ${level}`);
  log.level = level;
  if (!!values['tls-cert'] !== !!values['tls-key']) throw new Error('--tls-cert and --tls-key go together');
  const reg = await startRegistry({
    addr: values.addr,
    storage: values.storage ?? DEFAULT_STORAGE,
    tls: values['tls-cert'] && values['tls-key'] ? { cert: values['tls-cert'], key: values['tls-key'] } : undefined,
    htpasswd: values.htpasswd,
    tokenRealm: values['token-realm'],
    tokenKey: values['token-key'],
    tokenService: values['token-service'],
    tokenIssuer: values['token-issuer'],
    issueTokens: values['issue-tokens'],
    readOnly: values['read-only'],
  });
  process.stdout.write(`berth registry listening on ${reg.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await reg.close();
  return 0;
}

async function gc(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      storage: { type: 'string' },
      'delete-untagged': { type: 'boolean', short: 'm' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(GC_USAGE);
    return 0;
  }
  const storage = new RegistryStorage(values.storage ?? DEFAULT_STORAGE);
  const r = await garbageCollect(storage, { deleteUntagged: values['delete-untagged'], dryRun: values['dry-run'] });
  for (const m of r.deletedManifests) process.stdout.write(`${values['dry-run'] ? 'would delete' : 'deleted'} manifest ${m}\n`);
  for (const b of r.deleted) process.stdout.write(`${values['dry-run'] ? 'would delete' : 'deleted'} blob ${b}\n`);
  process.stdout.write(`${r.marked} blobs marked, ${r.deleted.length} blobs ${values['dry-run'] ? 'eligible for deletion' : 'deleted'}\n`);
  return 0;
}

/** `berth registry …` (argv after the word `registry`). */
export async function registryMain(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'serve') return await serve(rest);
    if (sub === 'gc') return await gc(rest);
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(REGISTRY_USAGE);
      return 0;
    }
    process.stderr.write(`berth: unknown command: berth registry ${sub}\n\nRun 'berth registry --help' for more information\n`);
    return 1;
  } catch (err) {
    process.stderr.write(`berth registry ${sub}: ${errorMessage(err)}\n`);
    return 1;
  }
}
