#!/usr/bin/env node
// The layering check (docs/style.md, "Floors"). Reads the floor table scripts/layers.txt and
// the `#include "..."` graph of every C file under the table's scan directories, and reports:
//   cycle:      files that include each other in a circle (one line per cycle group)
//   up:         a file including a file on a higher floor
//   unmatched:  a file no floor line matches
//   unresolved: a quoted include that names no file in the tree and is not listed as generated
//   owner:      outside a member's owners (folders or files), a field of that member of struct evl_loop
//               read or written (`loop->timers.x`); only its address (`&loop->timers`) may
//               be passed on, to the owner's own functions
// Exit status: 0 when clean or when the table says `enforce: no` (violations then print as
// warnings), 1 on violations, 2 on a bad table or usage.
//
// usage: scripts/check-layers.sh [--root DIR] [--table FILE]
//   --root   the tree to check (default: the repository); paths in the table are relative to it
//   --table  the floor table (default: ROOT/scripts/layers.txt)
'use strict';
const fs = require('fs');
const path = require('path');

function usage(msg) {
    process.stderr.write(`check-layers: ${msg}\nusage: scripts/check-layers.sh [--root DIR] [--table FILE]\n`);
    process.exit(2);
}

let root = path.resolve(__dirname, '..');
let table = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root' && i + 1 < argv.length) {
        root = path.resolve(argv[++i]);
    } else if (argv[i] === '--table' && i + 1 < argv.length) {
        table = path.resolve(argv[++i]);
    } else {
        usage(`unknown argument ${argv[i]}`);
    }
}
table = table || path.join(root, 'scripts', 'layers.txt');

// A glob over '/'-separated relative paths: `*` and `?` stay within one path segment, `**`
// crosses segments (`a/**/b` also matches `a/b`), and a trailing `/` means everything below.
function globToRegExp(glob) {
    let g = glob.endsWith('/') ? glob + '**' : glob;
    let re = '';
    for (let i = 0; i < g.length; i++) {
        const c = g[i];
        if (c === '*' && g[i + 1] === '*') {
            if (g[i + 2] === '/') {
                re += '(?:.*/)?';
                i += 2;
            } else {
                re += '.*';
                i += 1;
            }
        } else if (c === '*') {
            re += '[^/]*';
        } else if (c === '?') {
            re += '[^/]';
        } else {
            re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
        }
    }
    return new RegExp('^' + re + '$');
}

// ---- the table ----
function readTable(file) {
    let text;
    try {
        text = fs.readFileSync(file, 'utf8');
    } catch (e) {
        usage(`cannot read ${file}: ${e.message}`);
    }
    const t = {enforce: true, scan: [], includePath: [], generated: [], floors: [], owners: []};
    let section = 'floors';
    text.split('\n').forEach((raw, idx) => {
        const line = raw.replace(/#.*/, '').trim();
        const where = `${path.relative(process.cwd(), file)}:${idx + 1}`;
        if (line === '') {
            return;
        }
        const sec = line.match(/^\[(\w+)\]$/);
        if (sec) {
            if (sec[1] !== 'owners') {
                usage(`${where}: unknown section [${sec[1]}]`);
            }
            section = sec[1];
            return;
        }
        const kv = line.match(/^([a-z-]+):\s*(.*)$/);
        if (kv) {
            const words = kv[2].split(/\s+/).filter(Boolean);
            if (kv[1] === 'enforce') {
                if (words.length !== 1 || !['yes', 'no'].includes(words[0])) {
                    usage(`${where}: enforce: takes yes or no`);
                }
                t.enforce = words[0] === 'yes';
            } else if (kv[1] === 'scan') {
                t.scan.push(...words);
            } else if (kv[1] === 'include-path') {
                t.includePath.push(...words);
            } else if (kv[1] === 'generated') {
                t.generated.push(...words.map(globToRegExp));
            } else {
                usage(`${where}: unknown setting ${kv[1]}:`);
            }
            return;
        }
        const words = line.split(/\s+/);
        if (section === 'floors' ? words.length !== 2 : words.length < 2) {
            usage(`${where}: expected ${section === 'floors' ? 'two words' : 'a member and its owners'}, got "${line}"`);
        }
        if (section === 'floors') {
            if (!/^\d+$/.test(words[0])) {
                usage(`${where}: floor must be a number, got "${words[0]}"`);
            }
            t.floors.push({floor: Number(words[0]), glob: words[1], re: globToRegExp(words[1])});
        } else {
            // An owner is a folder (everything below it) or, naming a .c/.h file, that file.
            const paths = words.slice(1).map((w) => (/\.[ch]$/.test(w) ? w : w.replace(/\/?$/, '/')));
            t.owners.push({member: words[0], paths});
        }
    });
    if (t.scan.length === 0) {
        t.scan = ['src'];
    }
    return t;
}

const T = readTable(table);

function floorOf(rel) {
    const hit = T.floors.find((f) => f.re.test(rel));
    return hit ? hit.floor : null;
}

// ---- the sources ----
// Comments and string/char literals become spaces (newlines kept, so line numbers hold);
// include lines are read before literals are blanked.
function stripComments(text, keepStrings) {
    let out = '';
    let i = 0;
    const n = text.length;
    while (i < n) {
        const c = text[i];
        const d = text[i + 1];
        if (c === '/' && d === '*') {
            const end = text.indexOf('*/', i + 2);
            const stop = end < 0 ? n : end + 2;
            out += text.slice(i, stop).replace(/[^\n]/g, ' ');
            i = stop;
        } else if (c === '/' && d === '/') {
            let stop = text.indexOf('\n', i);
            stop = stop < 0 ? n : stop;
            out += ' '.repeat(stop - i);
            i = stop;
        } else if (c === '"' || c === '\'') {
            let j = i + 1;
            while (j < n && text[j] !== c && text[j] !== '\n') {
                j += text[j] === '\\' ? 2 : 1;
            }
            const stop = Math.min(j + 1, n);
            out += keepStrings ? text.slice(i, stop) : c + ' '.repeat(Math.max(stop - i - 2, 0)) + c;
            i = stop;
        } else {
            out += c;
            i++;
        }
    }
    return out;
}

function listFiles(dirRel) {
    const out = [];
    const abs = path.join(root, dirRel);
    if (!fs.existsSync(abs)) {
        return out;
    }
    for (const ent of fs.readdirSync(abs, {withFileTypes: true})) {
        const rel = path.posix.join(dirRel, ent.name);
        if (ent.isDirectory()) {
            out.push(...listFiles(rel));
        } else if (/\.[ch]$/.test(ent.name)) {
            out.push(rel);
        }
    }
    return out.sort();
}

function isFile(rel) {
    try {
        return fs.statSync(path.join(root, rel)).isFile();
    } catch (e) {
        return false;
    }
}

// Where a quoted include resolves, the compiler's way: the including file's folder first,
// then each include path in order.
function resolveInclude(fromRel, name) {
    const candidates = [path.posix.join(path.posix.dirname(fromRel), name)];
    for (const p of T.includePath) {
        candidates.push(path.posix.join(p, name));
    }
    for (const c of candidates) {
        const norm = path.posix.normalize(c);
        if (!norm.startsWith('..') && isFile(norm)) {
            return norm;
        }
    }
    return null;
}

const violations = [];
const files = new Map(); // rel -> {includes: [{rel, line}], text}
const queue = [];
for (const d of T.scan) {
    queue.push(...listFiles(d));
}
while (queue.length) {
    const rel = queue.shift();
    if (files.has(rel)) {
        continue;
    }
    const text = fs.readFileSync(path.join(root, rel), 'utf8');
    const code = stripComments(text, true);
    const info = {includes: [], code: null};
    files.set(rel, info);
    code.split('\n').forEach((line, idx) => {
        const m = line.match(/^\s*#\s*include\s*"([^"]+)"/);
        if (!m) {
            return;
        }
        const target = resolveInclude(rel, m[1]);
        if (target) {
            info.includes.push({rel: target, line: idx + 1});
            queue.push(target);
        } else if (!T.generated.some((re) => re.test(m[1]) || re.test(path.posix.basename(m[1])))) {
            violations.push(`unresolved: ${rel}:${idx + 1} includes "${m[1]}", which is not in ` +
                            'the tree and not listed as generated');
        }
    });
    info.code = stripComments(text, false);
}

// (c) every file on a floor
for (const rel of files.keys()) {
    if (floorOf(rel) === null) {
        violations.push(`unmatched: ${rel} is on no floor (add a line to ${path.relative(root, table)})`);
    }
}

// (b) includes point down or sideways
for (const [rel, info] of files) {
    const f = floorOf(rel);
    for (const inc of info.includes) {
        const g = floorOf(inc.rel);
        if (f !== null && g !== null && g > f) {
            violations.push(`up: ${rel}:${inc.line} (floor ${f}) includes ${inc.rel} (floor ${g})`);
        }
    }
}

// (a) include cycles: Tarjan's strongly connected components; each group of files that
// reach each other is reported once, with one concrete circle through it.
{
    const index = new Map();
    const low = new Map();
    const onStack = new Set();
    const stack = [];
    let next = 0;
    const groups = [];
    const edges = (v) => [...new Set(files.get(v).includes.map((i) => i.rel))];
    const strong = (v) => {
        index.set(v, next);
        low.set(v, next);
        next++;
        stack.push(v);
        onStack.add(v);
        for (const w of edges(v)) {
            if (!index.has(w)) {
                strong(w);
                low.set(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.has(w)) {
                low.set(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v) === index.get(v)) {
            const group = [];
            let w;
            do {
                w = stack.pop();
                onStack.delete(w);
                group.push(w);
            } while (w !== v);
            if (group.length > 1 || edges(v).includes(v)) {
                groups.push(group.sort());
            }
        }
    };
    for (const v of [...files.keys()].sort()) {
        if (!index.has(v)) {
            strong(v);
        }
    }
    for (const group of groups) {
        // Shortest circle from the group's first file back to itself (breadth-first).
        const inGroup = new Set(group);
        const start = group[0];
        const prev = new Map();
        const todo = [start];
        let found = null;
        while (todo.length && !found) {
            const v = todo.shift();
            for (const w of edges(v).filter((x) => inGroup.has(x)).sort()) {
                if (w === start) {
                    found = v;
                    break;
                }
                if (!prev.has(w)) {
                    prev.set(w, v);
                    todo.push(w);
                }
            }
        }
        const circle = [start];
        for (let v = found; v !== start; v = prev.get(v)) {
            circle.splice(1, 0, v);
        }
        circle.push(start);
        const rest = group.length > circle.length - 1 ? ` (${group.length} files in this group: ` +
                                                             `${group.join(', ')})`
                                                       : '';
        violations.push(`cycle: ${circle.join(' -> ')}${rest}`);
    }
}

// owners: a member of struct evl_loop is read or written only in its owner's directory.
for (const o of T.owners) {
    const re = new RegExp(`(&\\s*)?\\b(?:\\w+\\s*(?:->|\\.)\\s*)*\\w*loop\\s*->\\s*${o.member}\\b` +
                            '(\\s*(?:\\.|->)\\s*\\w+|\\s*\\[)?', 'g');
    for (const [rel, info] of files) {
        if (o.paths.some((p) => (p.endsWith('/') ? rel.startsWith(p) : rel === p))) {
            continue;
        }
        info.code.split('\n').forEach((line, idx) => {
            for (const m of line.matchAll(re)) {
                if (m[1] && !m[2]) {
                    continue; /* &loop->member: passed to its owner */
                }
                const use = m[0].replace(/^&\s*/, '').replace(/\s+/g, '');
                violations.push(`owner: ${rel}:${idx + 1} uses ${use}` +
                                ` outside ${o.paths.join(' ')} (the owner of loop->${o.member})`);
            }
        });
    }
}

const edgesTotal = [...files.values()].reduce((n, f) => n + f.includes.length, 0);
const tableRel = path.relative(process.cwd(), table) || table;
if (violations.length === 0) {
    console.log(`layers: ok (${files.size} files, ${edgesTotal} includes, ${tableRel})`);
    process.exit(0);
}
const prefix = T.enforce ? '' : 'warning: ';
for (const v of violations) {
    console.log(prefix + v);
}
if (!T.enforce) {
    console.log(`layers: ${violations.length} violation${violations.length === 1 ? "" : "s"}, not enforced (${tableRel} says ` +
                '"enforce: no")');
    process.exit(0);
}
console.log(`layers: ${violations.length} violation${violations.length === 1 ? "" : "s"} (${files.size} files, ${tableRel})`);
process.exit(1);
