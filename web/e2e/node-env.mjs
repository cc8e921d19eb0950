// What the matrix-js-sdk scripts run by the Go tests share under Node:
// the Promise.withResolvers polyfill, console to stderr, and emit (one JSON
// line on stdout). Import it before matrix-js-sdk.

// Node 20 lacks Promise.withResolvers, which matrix-js-sdk uses.
if (!Promise.withResolvers) {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new Promise((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    return { promise, resolve, reject };
  };
}

// The SDK and its Rust crypto log through console; stdout carries only
// the script's JSON lines, so every console log goes to stderr.
for (const level of ["log", "info", "debug", "warn", "trace"]) console[level] = console.error;

export const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
