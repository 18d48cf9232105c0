// Shared by the web fixtures (ES5: runs under evljs and node alike).
function show(v) {
    if (v === undefined) {
        return 'undefined';
    }
    if (typeof v === 'number' && v === 0 && 1 / v < 0) {
        return '-0';
    }
    if (typeof v === 'number' && !isFinite(v)) {
        return String(v);
    }
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) {
        return JSON.stringify(v);
    }
    if (typeof v === 'function') {
        return 'function ' + v.name;
    }
    if (Array.isArray(v)) {
        return '[' + v.map(show).join(', ') + ']';
    }
    return Object.prototype.toString.call(v);
}
function errName(e) {
    if (typeof DOMException === 'function' && e instanceof DOMException) {
        return 'DOMException ' + e.name + ' code=' + e.code;
    }
    return e && e.name ? e.name : String(e);
}
exports.show = show;
exports.errName = errName;
exports.check = function (label, fn) {
    try {
        console.log(label + ' = ' + show(fn()));
    } catch (e) {
        console.log(label + ' throws ' + errName(e));
    }
};
exports.attrs = function (obj, key) {
    var d = Object.getOwnPropertyDescriptor(obj, key);
    if (!d) {
        return 'absent';
    }
    if ('get' in d) {
        return 'accessor get=' + (d.get ? JSON.stringify(d.get.name) : '-') + ' set=' +
            (d.set ? JSON.stringify(d.set.name) : '-') + ' e=' + d.enumerable + ' c=' + d.configurable;
    }
    return 'data w=' + d.writable + ' e=' + d.enumerable + ' c=' + d.configurable +
        (typeof d.value === 'function' ? ' fn ' + JSON.stringify(d.value.name) + '/' + d.value.length : '');
};
