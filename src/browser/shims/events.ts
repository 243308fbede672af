// node:events in a browser tab: EventTarget has no listener limit, so raising it is a no-op.
export function setMaxListeners(): void {}

export default { setMaxListeners };
