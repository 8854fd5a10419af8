#!/usr/bin/env bash
# Runs the test suite's part without the network lab (every test file not named *-lab.test.*) under another
# Node major version, fetched as the `node` package from the npm registry: `bash scripts/test-on-node.sh 24`.
# dist/ is rebuilt by that node first (the ssh2 bundle's V8 code cache is per Node version: another node's
# cache is rejected, which the ssh2 tests would rightly report), then rebuilt by this machine's node again, so
# `npm start`, `npm run demo` and later test runs find a build of their own node.
set -euo pipefail
cd "$(dirname "$0")/.."
major="${1:?usage: scripts/test-on-node.sh <node major version, e.g. 24>}"
dir="node_modules/.cache/lbcheck-node-$major"
node_bin="$dir/node_modules/.bin/node"
if [ ! -x "$node_bin" ] || ! "$node_bin" --version | grep -q "^v$major\."; then
  echo "test-on-node: fetching Node $major (npm package node@$major) into $dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node@$major" >/dev/null
fi
echo "test-on-node: $("$node_bin" --version), tests without the lab"
restore() { node scripts/build.mjs >/dev/null; }
trap restore EXIT
"$node_bin" scripts/build.mjs
"$node_bin" dist/test/run-tests.js --except -lab.test.
