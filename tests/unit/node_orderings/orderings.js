// Microtask orderings recorded from Node for test_promise_order.c.
// Each scenario starts a counter chain of queueMicrotask ticks (t0, t1, ...) FIRST, then
// runs the promise operations; the printed sequence shows on which turn each event happened.
// Run: node orderings.js > orderings.expected   (recorded with Node v20)
'use strict';
const scenarios = [];
function scenario(name, fn) { scenarios.push({ name, fn }); }

function ticker(log, n) {
  let i = 0;
  function f() { log.push('t' + i); if (++i < n) queueMicrotask(f); }
  queueMicrotask(f);
}

scenario('interleaved_chains', (log) => {
  const a = Promise.resolve(), b = Promise.resolve();
  a.then(() => log.push('a1')).then(() => log.push('a2')).then(() => log.push('a3'));
  b.then(() => log.push('b1')).then(() => log.push('b2')).then(() => log.push('b3'));
});
scenario('then_on_fulfilled', (log) => {
  ticker(log, 5);
  Promise.resolve(1).then(() => log.push('X'));
});
scenario('then_on_pending_resolved_later', (log) => {
  ticker(log, 5);
  let res; const p = new Promise((r) => { res = r; });
  p.then(() => log.push('X'));
  res(1);
});
scenario('resolve_with_value', (log) => {
  ticker(log, 5);
  new Promise((r) => r(1)).then(() => log.push('V'));
});
scenario('resolve_with_promise', (log) => {
  ticker(log, 6);
  new Promise((r) => r(Promise.resolve(1))).then(() => log.push('P'));
});
scenario('resolve_with_pending_promise', (log) => {
  ticker(log, 6);
  let res; const q = new Promise((r) => { res = r; });
  new Promise((r) => r(q)).then(() => log.push('P'));
  res(1);
});
scenario('handler_returns_value', (log) => {
  ticker(log, 6);
  Promise.resolve().then(() => 1).then(() => log.push('X'));
});
scenario('handler_returns_promise', (log) => {
  ticker(log, 7);
  Promise.resolve().then(() => Promise.resolve(1)).then(() => log.push('X'));
});
scenario('resolve_with_thenable', (log) => {
  ticker(log, 6);
  const t = { then(r) { log.push('then'); r(1); } };
  new Promise((r) => r(t)).then(() => log.push('X'));
});
scenario('thenable_async_resolve', (log) => {
  ticker(log, 6);
  const t = { then(r) { log.push('then'); queueMicrotask(() => r(1)); } };
  Promise.resolve(t).then(() => log.push('X'));
});
scenario('thenable_throws_after_resolve', (log) => {
  ticker(log, 6);
  const t = { then(r) { r(7); throw new Error('ignored'); } };
  Promise.resolve(t).then((v) => log.push('X' + v), () => log.push('R'));
});
scenario('rejected_passthrough', (log) => {
  ticker(log, 6);
  Promise.reject(1).then(() => log.push('no')).catch(() => log.push('C'));
});
scenario('catch_direct', (log) => {
  ticker(log, 5);
  Promise.reject(1).catch(() => log.push('C'));
});
scenario('finally_fulfilled', (log) => {
  ticker(log, 8);
  Promise.resolve(1).finally(() => log.push('F')).then(() => log.push('X'));
});
scenario('finally_rejected', (log) => {
  ticker(log, 8);
  Promise.reject(1).finally(() => log.push('F')).catch(() => log.push('C'));
});
scenario('finally_returns_promise', (log) => {
  ticker(log, 9);
  Promise.resolve(1).finally(() => { log.push('F'); return Promise.resolve(2); }).then((v) => log.push('X' + v));
});
scenario('finally_throws', (log) => {
  ticker(log, 8);
  Promise.resolve(1).finally(() => { log.push('F'); throw 2; }).catch((e) => log.push('C' + e));
});
scenario('all_values', (log) => {
  ticker(log, 6);
  Promise.all([Promise.resolve(1), 2, Promise.resolve(3)]).then(() => log.push('A'));
});
scenario('all_pending_then_resolved', (log) => {
  ticker(log, 6);
  let res; const q = new Promise((r) => { res = r; });
  Promise.all([q, 1]).then(() => log.push('A'));
  Promise.resolve().then(() => { log.push('R'); res(1); });
});
scenario('all_reject', (log) => {
  ticker(log, 6);
  Promise.all([Promise.resolve(1), Promise.reject(2)]).catch(() => log.push('C'));
});
scenario('all_empty', (log) => {
  ticker(log, 4);
  Promise.all([]).then(() => log.push('A'));
});
scenario('all_settled', (log) => {
  ticker(log, 6);
  Promise.allSettled([Promise.resolve(1), Promise.reject(2), 3]).then(() => log.push('S'));
});
scenario('any_first', (log) => {
  ticker(log, 6);
  Promise.any([Promise.reject(1), Promise.resolve(2)]).then(() => log.push('Y'));
});
scenario('any_all_rejected', (log) => {
  ticker(log, 6);
  Promise.any([Promise.reject(1), Promise.reject(2)]).catch(() => log.push('G'));
});
scenario('any_empty', (log) => {
  ticker(log, 4);
  Promise.any([]).catch(() => log.push('G'));
});
scenario('race', (log) => {
  ticker(log, 6);
  Promise.race([new Promise(() => {}), Promise.resolve(1)]).then(() => log.push('W'));
});
scenario('all_with_thenable', (log) => {
  ticker(log, 7);
  const t = { then(r) { log.push('then'); r(1); } };
  Promise.all([t, 2]).then(() => log.push('A'));
});

(async () => {
  for (const s of scenarios) {
    const log = [];
    s.fn(log);
    // Let every microtask of the scenario finish before the next one starts.
    await new Promise((r) => setTimeout(r, 1));
    console.log(s.name + ': ' + log.join(' '));
  }
})();
