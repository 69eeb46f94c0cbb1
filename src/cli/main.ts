/**
 * The entry of every form: the npm package's bin (built to CommonJS, behind a stub that turns on
 * V8's compile cache) and the standalone binaries (compiled to bytecode by Bun, which needs a
 * CommonJS entry without top-level await).
 */
import { runCli } from './program.js';

// A snapshot: what the process itself sets later must not reach `env --`.
const env = { ...process.env };
// The SDK warns on stderr about its own future Node.js support; that is not our users' concern
// and would pollute every credential_process call.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// A reader that goes away (`| head`, a consumer that gave up) is no reason for a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

runCli(process.argv.slice(2), env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`gitlab-aws-credential-helper: unexpected error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
