// DOMException (WebIDL §3.14): constructor defaults, the names table, constants, getters on
// the prototype, Error ancestry, stack, brand checks and the shape of the global.
var h = require('./_harness.js');
var check = h.check;

check('global', function () { return h.attrs(globalThis, 'DOMException'); });
check('length', function () { return DOMException.length; });
check('name', function () { return DOMException.name; });
check('call without new', function () { return DOMException('x'); });
var d = new DOMException();
check('default message', function () { return d.message; });
check('default name', function () { return d.name; });
check('default code', function () { return d.code; });
var e = new DOMException('boom', 'AbortError');
check('message', function () { return e.message; });
check('name', function () { return e.name; });
check('code', function () { return e.code; });
check('instanceof Error', function () { return e instanceof Error; });
check('toString', function () { return String(e); });
check('toStringTag', function () { return Object.prototype.toString.call(e); });
check('stack is a string', function () { return typeof e.stack === 'string' && e.stack.indexOf('AbortError: boom') === 0; });
check('own names', function () { return Object.getOwnPropertyNames(e).filter(function (n) { return n !== 'stack'; }); });
check('proto of proto', function () { return Object.getPrototypeOf(DOMException.prototype) === Error.prototype; });
['name', 'message', 'code'].forEach(function (k) {
    check('attr ' + k, function () { return h.attrs(DOMException.prototype, k); });
    check('wrong receiver ' + k, function () { return Object.getOwnPropertyDescriptor(DOMException.prototype, k).get.call({}); });
});
check('message conversion null', function () { return new DOMException(null, undefined).message; });
check('name conversion', function () { return new DOMException('m', 42).name; });
check('symbol message', function () { return new DOMException(Symbol('s')); });
var names = ['IndexSizeError', 'HierarchyRequestError', 'WrongDocumentError', 'InvalidCharacterError',
    'NoModificationAllowedError', 'NotFoundError', 'NotSupportedError', 'InUseAttributeError', 'InvalidStateError',
    'SyntaxError', 'InvalidModificationError', 'NamespaceError', 'InvalidAccessError', 'TypeMismatchError',
    'SecurityError', 'NetworkError', 'AbortError', 'URLMismatchError', 'QuotaExceededError', 'TimeoutError',
    'InvalidNodeTypeError', 'DataCloneError', 'EncodingError', 'NotReadableError', 'UnknownError',
    'ConstraintError', 'DataError', 'TransactionInactiveError', 'ReadOnlyError', 'VersionError',
    'OperationError', 'NotAllowedError', 'OptOutError', 'abortError'];
console.log(names.map(function (n) { return n + '=' + new DOMException('', n).code; }).join(' '));
var consts = ['INDEX_SIZE_ERR', 'DOMSTRING_SIZE_ERR', 'HIERARCHY_REQUEST_ERR', 'WRONG_DOCUMENT_ERR',
    'INVALID_CHARACTER_ERR', 'NO_DATA_ALLOWED_ERR', 'NO_MODIFICATION_ALLOWED_ERR', 'NOT_FOUND_ERR',
    'NOT_SUPPORTED_ERR', 'INUSE_ATTRIBUTE_ERR', 'INVALID_STATE_ERR', 'SYNTAX_ERR', 'INVALID_MODIFICATION_ERR',
    'NAMESPACE_ERR', 'INVALID_ACCESS_ERR', 'VALIDATION_ERR', 'TYPE_MISMATCH_ERR', 'SECURITY_ERR', 'NETWORK_ERR',
    'ABORT_ERR', 'URL_MISMATCH_ERR', 'QUOTA_EXCEEDED_ERR', 'TIMEOUT_ERR', 'INVALID_NODE_TYPE_ERR', 'DATA_CLONE_ERR'];
console.log(consts.map(function (n) {
    return n + '=' + DOMException[n] + (DOMException.prototype[n] === DOMException[n] ? '' : '!') + (e[n] === DOMException[n] ? '' : '?');
}).join(' '));
check('constant attrs', function () { return h.attrs(DOMException, 'ABORT_ERR') + ' / ' + h.attrs(DOMException.prototype, 'ABORT_ERR'); });
check('prototype attrs', function () { return h.attrs(DOMException, 'prototype'); });
check('toStringTag attrs', function () {
    var t = Object.getOwnPropertyDescriptor(DOMException.prototype, Symbol.toStringTag);
    return t.value + ' w=' + t.writable + ' e=' + t.enumerable + ' c=' + t.configurable;
});
function MyErr() { DOMException.call(this, 'sub', 'NotFoundError'); }
MyErr.prototype = Object.create(DOMException.prototype);
check('es5 subclass', function () { var m = new MyErr(); return [m.name, m.message, m.code, m instanceof DOMException]; });
check('thrown and caught', function () {
    try { throw new DOMException('x', 'SyntaxError'); } catch (err) { return err.name + ' ' + err.code; }
});
