// A forkd client in Node.js, with nothing but @grpc/grpc-js and @grpc/proto-loader:
// spawn a process, watch its output until it ends, join it, and print what happened as JSON.
//
//   node client.js [ADDRESS] [-- CMD ARGS...]
//
// ADDRESS defaults to $FORKD_ADDRESS (e.g. unix:/run/user/1000/forkd/forkd.sock or host:port;
// for TCP with a token in $FORKD_TOKEN, and TLS from $FORKD_TLS_CA / $FORKD_TLS_CERT / $FORKD_TLS_KEY).
// Exits 0 when the process was spawned, watched and joined.
'use strict';
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = path.join(__dirname, '..', '..', 'proto', 'src', 'main', 'proto');

function load() {
  const def = protoLoader.loadSync(['forkd/v1/process.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(def).forkd.v1;
}

function parseArgs(argv) {
  const dash = argv.indexOf('--');
  const before = dash < 0 ? argv : argv.slice(0, dash);
  const cmd = dash < 0 ? ['sh', '-c', 'echo hello from node; echo to stderr >&2; exit 7'] : argv.slice(dash + 1);
  const address = before[0] || process.env.FORKD_ADDRESS;
  if (!address) {
    throw new Error('no address: pass one or set FORKD_ADDRESS');
  }
  return { address, cmd };
}

// TLS when $FORKD_TLS_CA (the CA of the server's certificate) or a client certificate
// ($FORKD_TLS_CERT and $FORKD_TLS_KEY, for a server that requires one) is set; plaintext otherwise.
function credentials() {
  const { FORKD_TLS_CA: ca, FORKD_TLS_CERT: cert, FORKD_TLS_KEY: key } = process.env;
  if (!ca && !cert) {
    return grpc.credentials.createInsecure();
  }
  const read = (file) => (file ? fs.readFileSync(file) : null);
  return grpc.credentials.createSsl(read(ca), read(key), read(cert));
}

// The token goes in each call's metadata rather than in call credentials: grpc-js refuses to
// compose call credentials with a plaintext channel ("Cannot compose insecure credentials"), and
// a server on loopback with --insecure-plaintext still wants the token.
function metadata() {
  const m = new grpc.Metadata();
  if (process.env.FORKD_TOKEN) {
    m.add('authorization', 'Bearer ' + process.env.FORKD_TOKEN);
  }
  return m;
}

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata(), { deadline: Date.now() + 60000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

function watch(client, id) {
  return new Promise((resolve, reject) => {
    const out = { stdout: '', stderr: '', states: [] };
    const call = client.Watch({ name: id, follow: true }, metadata());
    call.on('data', (msg) => {
      if (msg.output) {
        const key = msg.output.stream === 'OUTPUT_STREAM_STDERR' ? 'stderr' : 'stdout';
        out[key] += Buffer.from(msg.output.data).toString('utf8');
      } else if (msg.state) {
        out.states.push(msg.state.state);
      }
    });
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

async function main() {
  const { address, cmd } = parseArgs(process.argv.slice(2));
  const v1 = load();
  const client = new v1.ProcessService(address, credentials());
  const spawned = await unary(client, 'Spawn', { argv: cmd, name: 'node-' + process.pid });
  const id = spawned.process.id;
  const watched = await watch(client, id);
  const joined = await unary(client, 'Join', { name: id });
  const result = {
    id,
    pid: spawned.process.pid,
    state: joined.process.state,
    // proto3 optional: absent (not 0) while the process runs.
    exit_code: joined.process.exit_code ?? null,
    stdout: watched.stdout,
    stderr: watched.stderr,
    states: watched.states,
  };
  console.log(JSON.stringify(result));
  client.close();
}

main().catch((err) => {
  console.error('forkd node client: ' + (err.details || err.message));
  process.exit(1);
});
