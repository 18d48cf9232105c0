/*
 * CommonJS modules for evljs: require() of relative and absolute .js and .json files, with
 * caching, cycles (a module sees the partial exports of one still loading), module.exports,
 * exports, __filename, __dirname, require.main, require.cache and require.resolve. ES5 only.
 * Called as fn(global, native, internals); adds internals.runMain and internals.runEval.
 */
(function (global, native, internals) {
    'use strict';

    var cache = Object.create(null);
    var mainModule;

    function normalize(path) {
        var abs = path.charAt(0) === '/';
        var out = [];
        path.split('/').forEach(function (part) {
            if (part === '' || part === '.') {
                return;
            }
            if (part === '..') {
                if (out.length > 0 && out[out.length - 1] !== '..') {
                    out.pop();
                } else if (!abs) {
                    out.push('..');
                }
                return;
            }
            out.push(part);
        });
        var joined = out.join('/');
        return abs ? '/' + joined : (joined || '.');
    }

    function dirname(path) {
        var i = path.lastIndexOf('/');
        if (i < 0) {
            return '.';
        }
        return i === 0 ? '/' : path.slice(0, i);
    }

    function notFound(request, parent) {
        var msg = "Cannot find module '" + request + "'";
        if (parent && parent.filename) {
            msg += '\nRequire stack:\n- ' + parent.filename;
        }
        var err = new Error(msg);
        err.code = 'MODULE_NOT_FOUND';
        return err;
    }

    function tryFile(path) {
        return native.stat(path) === 1 ? native.realpath(path) : null;
    }

    function tryExtensions(path) {
        return tryFile(path) || tryFile(path + '.js') || tryFile(path + '.json');
    }

    function tryDirectory(path) {
        if (native.stat(path) !== 2) {
            return null;
        }
        var pkg = tryFile(path + '/package.json');
        if (pkg) {
            var main;
            try {
                main = JSON.parse(native.readFile(pkg)).main;
            } catch (e) {
                main = undefined;
            }
            if (typeof main === 'string' && main !== '') {
                var target = normalize(path + '/' + main);
                var found = tryExtensions(target) || tryFile(target + '/index.js') ||
                    tryFile(target + '/index.json');
                if (found) {
                    return found;
                }
            }
        }
        return tryFile(path + '/index.js') || tryFile(path + '/index.json');
    }

    function resolve(request, parent) {
        if (typeof request !== 'string') {
            throw internals.invalidArgType('id', 'string', request);
        }
        if (request === '') {
            var e = new TypeError("The argument 'id' must be a non-empty string. Received ''");
            e.code = 'ERR_INVALID_ARG_VALUE';
            throw e;
        }
        var base;
        if (request.charAt(0) === '/') {
            base = normalize(request);
        } else if (request === '.' || request === '..' || request.indexOf('./') === 0 ||
                   request.indexOf('../') === 0) {
            var dir = parent && parent.filename ? dirname(parent.filename) : native.cwd();
            base = normalize(dir + '/' + request);
        } else {
            throw notFound(request, parent);
        }
        var found = tryExtensions(base) || tryDirectory(base);
        if (!found) {
            throw notFound(request, parent);
        }
        return found;
    }

    function Module(id, parent) {
        this.id = id;
        this.path = '.';
        this.exports = {};
        this.filename = null;
        this.loaded = false;
        this.children = [];
        this.paths = [];
        Object.defineProperty(this, 'parent', {
            value: parent, writable: true, enumerable: false, configurable: true
        });
    }

    /* Core modules: bootstraps register them in internals.builtins (name -> exports) or
     * internals.lazyBuiltins (name -> function making the exports on first use). 'node:'
     * always means a core module; so does a bare name that is one. */
    var builtinCache = Object.create(null);
    function builtinName(request) {
        if (typeof request !== 'string') {
            return null;
        }
        var scheme = request.indexOf('node:') === 0;
        var name = scheme ? request.slice(5) : request;
        var hasOwn = Object.prototype.hasOwnProperty;
        if (hasOwn.call(internals.builtins || {}, name) ||
            hasOwn.call(internals.lazyBuiltins || {}, name)) {
            return name;
        }
        if (scheme) {
            var e = new Error('No such built-in module: ' + request);
            e.code = 'ERR_UNKNOWN_BUILTIN_MODULE';
            throw e;
        }
        return null;
    }
    function loadBuiltin(name) {
        if (!(name in builtinCache)) {
            var lazy = internals.lazyBuiltins && internals.lazyBuiltins[name];
            builtinCache[name] = lazy ? lazy() : internals.builtins[name];
        }
        return builtinCache[name];
    }
    internals.requireBuiltin = function (name) {
        return loadBuiltin(name);
    };

    function makeRequire(mod) {
        function require(request) {
            var builtin = builtinName(request);
            if (builtin !== null) {
                return loadBuiltin(builtin);
            }
            var filename = resolve(request, mod);
            var cached = cache[filename];
            if (cached) {
                return cached.exports;
            }
            var child = new Module(filename, mod);
            load(child, filename);
            return child.exports;
        }
        require.resolve = function resolveRequest(request) {
            if (builtinName(request) !== null) {
                return request;
            }
            return resolve(request, mod);
        };
        require.main = mainModule;
        require.cache = cache;
        return require;
    }

    /* The file's text, or an error that says why it cannot be a module: the reader refuses
     * what is not a regular file (a device or FIFO would never end or would block) and
     * sources above its size cap. The system error's code, errno and syscall are kept. */
    function readSource(filename) {
        try {
            return native.readFile(filename);
        } catch (err) {
            if (err && err.code === 'EINVAL') {
                err.message = "Cannot load module '" + filename + "': not a regular file (" +
                    err.message + ')';
            } else if (err && err.code === 'EFBIG') {
                err.message = "Cannot load module '" + filename + "': larger than the " +
                    '128 MiB module size limit (' + err.message + ')';
            }
            throw err;
        }
    }

    function load(mod, filename) {
        mod.filename = filename;
        mod.path = dirname(filename);
        cache[filename] = mod;
        if (mod.parent && mod.parent.children) {
            mod.parent.children.push(mod);
        }
        var ok = false;
        try {
            var source = readSource(filename);
            if (/\.json$/.test(filename)) {
                try {
                    mod.exports = JSON.parse(source);
                } catch (err) {
                    err.message = filename + ': ' + err.message;
                    throw err;
                }
            } else {
                if (source.charAt(0) === '#' && source.charAt(1) === '!') {
                    source = '//' + source;
                }
                /* The wrapper stays on the first line so line numbers match the file. */
                var fn = native.compile('(function (exports, require, module, __filename, ' +
                    '__dirname) {' + source + '\n})', filename, false);
                fn.call(mod.exports, mod.exports, makeRequire(mod), mod, filename, mod.path);
            }
            ok = true;
        } finally {
            if (!ok) {
                delete cache[filename];
            }
        }
        mod.loaded = true;
    }

    internals.runMain = function (path) {
        var filename = tryFile(path) || tryExtensions(path) || tryDirectory(path);
        if (!filename) {
            throw notFound(path, null);
        }
        var mod = new Module('.', null);
        mainModule = mod;
        load(mod, filename);
    };

    /* -e and stdin: the code runs as a global program (its vars become globals, as in Node),
     * with require/module/exports/__filename/__dirname defined as globals. */
    internals.runEval = function (source, name) {
        var mod = new Module(name, null);
        mod.filename = native.cwd() + '/' + name;
        mod.path = native.cwd();
        mod.paths = [];
        mainModule = undefined;
        var req = makeRequire(mod);
        global.require = req;
        global.module = mod;
        global.exports = mod.exports;
        global.__filename = name;
        global.__dirname = '.';
        native.compile(source, name, true)();
    };
});
