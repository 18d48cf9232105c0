/*
 * DOMException (WebIDL §3.14 "DOMException"): the legacy code table, the 25 constants, name/
 * message/code as prototype getters, and Error.prototype as the prototype's prototype so
 * `instanceof Error` holds and Duktape gives each instance a stack. Called as fn(global,
 * native, web); sets web.DOMException (the host's own DOMException if it defined one).
 */
(function (global, native, web) {
    'use strict';

    var SLOT = web.SLOT;

    /* WebIDL's error names table: name -> legacy code (0 for names without one). */
    var codes = {
        IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
        NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InUseAttributeError: 10,
        InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14,
        InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
        URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24,
        DataCloneError: 25
    };
    var constants = {
        INDEX_SIZE_ERR: 1, DOMSTRING_SIZE_ERR: 2, HIERARCHY_REQUEST_ERR: 3, WRONG_DOCUMENT_ERR: 4,
        INVALID_CHARACTER_ERR: 5, NO_DATA_ALLOWED_ERR: 6, NO_MODIFICATION_ALLOWED_ERR: 7, NOT_FOUND_ERR: 8,
        NOT_SUPPORTED_ERR: 9, INUSE_ATTRIBUTE_ERR: 10, INVALID_STATE_ERR: 11, SYNTAX_ERR: 12,
        INVALID_MODIFICATION_ERR: 13, NAMESPACE_ERR: 14, INVALID_ACCESS_ERR: 15, VALIDATION_ERR: 16,
        TYPE_MISMATCH_ERR: 17, SECURITY_ERR: 18, NETWORK_ERR: 19, ABORT_ERR: 20, URL_MISMATCH_ERR: 21,
        QUOTA_EXCEEDED_ERR: 22, TIMEOUT_ERR: 23, INVALID_NODE_TYPE_ERR: 24, DATA_CLONE_ERR: 25
    };

    function DOMException(message, name) {
        web.checkConstruct(this, DOMException, new.target);
        message = message === undefined ? '' : web.toDOMString(message);
        name = name === undefined ? 'Error' : web.toDOMString(name);
        web.setSlot(this, {
            brands: { DOMException: true },
            name: name,
            message: message,
            code: Object.prototype.hasOwnProperty.call(codes, name) ? codes[name] : 0
        });
    }
    DOMException.prototype = Object.create(Error.prototype);

    function state(self) {
        return web.impl(self, 'DOMException');
    }

    web.defineInterface(DOMException, {
        name: 'DOMException',
        length: 0,
        constants: constants,
        attrs: {
            name: [function () { return state(this).name; }],
            message: [function () { return state(this).message; }],
            code: [function () { return state(this).code; }]
        }
    });
    /* Error.prototype.toString reads name and message through the getters, which is what
     * the spec's inherited toString does; Duktape builds `stack` from it. */

    web.exposeGlobal('DOMException', DOMException, false);
    web.DOMException = DOMException;
    web.domError = function (message, name) {
        return new DOMException(message, name);
    };
    void SLOT;
})
