const ready = false;
if (!ready) throw new TypeError('not ready');
export default ready;
