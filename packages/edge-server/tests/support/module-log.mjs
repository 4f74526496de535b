// Preloaded with `node --import` by tests that check what a process loads: appends the URL or
// path of every module it loads (ES modules through a loader hook, CommonJS ones as they are
// compiled) to the file named by EDGECAM_TEST_MODULE_LOG, one a line.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.EDGECAM_TEST_MODULE_LOG;
if (log) {
  const hook = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return next(url, context);
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    appendFileSync(log, `${filename}\n`);
    return compile.call(this, content, filename);
  };
}
