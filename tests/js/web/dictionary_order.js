// WebIDL dictionaries: members are read once each, in lexicographic order (inherited
// dictionaries first), whatever order the object lists them in.
var reads = [];
function spy(values) {
    var o = {};
    Object.keys(values).reverse().forEach(function (k) {
        Object.defineProperty(o, k, { get: function () { reads.push(k); return values[k]; }, enumerable: true });
    });
    return o;
}
function order(label, fn) {
    reads = [];
    try {
        fn();
    } catch (e) {
        reads.push('threw ' + e.name);
    }
    console.log(label + ': ' + reads.join(','));
}
order('EventInit', function () { new Event('x', spy({ bubbles: true, cancelable: true, composed: true })); });
order('CustomEventInit', function () { new CustomEvent('x', spy({ detail: 1, bubbles: true, cancelable: true, composed: true })); });
order('MessageEventInit', function () {
    new MessageEvent('x', spy({ source: null, ports: [], origin: 'o', lastEventId: 'i', data: 1, bubbles: false, cancelable: false, composed: false }));
});
order('BlobPropertyBag', function () { new Blob([], spy({ type: 't', endings: 'native' })); });
order('FilePropertyBag', function () { new File([], 'n', spy({ lastModified: 1, type: 't', endings: 'native' })); });
order('TextDecoderOptions', function () { new TextDecoder('utf-8', spy({ ignoreBOM: true, fatal: true })); });
order('TextDecodeOptions', function () { new TextDecoder().decode(new Uint8Array(1), spy({ stream: true })); });
order('AddEventListenerOptions', function () {
    new EventTarget().addEventListener('x', function () {}, spy({ signal: undefined, passive: true, once: true, capture: true }));
});
order('EventListenerOptions (remove)', function () {
    new EventTarget().removeEventListener('x', function () {}, spy({ once: true, capture: true }));
});
order('PerformanceMarkOptions', function () { performance.mark('m', spy({ startTime: 1, detail: null })); });
order('PerformanceMeasureOptions', function () { performance.measure('m2', spy({ start: 1, end: 2, detail: null })); });
order('PerformanceObserverInit', function () { new PerformanceObserver(function () {}).observe(spy({ type: 'mark', buffered: false })); });
order('StructuredSerializeOptions', function () { structuredClone(1, spy({ transfer: [] })); });
