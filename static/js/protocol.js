// @ts-check
/** Hearth wire protocol client: one websocket, JSON envelopes, callbacks. No DOM here. */

/** @typedef {{type: string, [key: string]: any}} Envelope */

export class HearthSocket {
  /** @param {string} url */
  constructor(url) {
    this.url = url;
    /** @type {(msg: Envelope) => void} */
    this.onmessage = () => {};
    /** @type {(code: number) => void} */
    this.onclose = () => {};
    this.nextId = 1;
    /** @type {WebSocket | null} */
    this.ws = null;
  }

  /** @param {Envelope} join @returns {Promise<void>} */
  open(join) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      ws.onopen = () => { ws.send(JSON.stringify(join)); resolve(); };
      ws.onerror = () => reject(new Error("connection failed"));
      ws.onmessage = (ev) => this.onmessage(JSON.parse(ev.data));
      ws.onclose = (ev) => this.onclose(ev.code);
    });
  }

  /** @param {Envelope} msg @returns {number} the id it was sent with */
  send(msg) {
    const id = this.nextId++;
    this.ws?.send(JSON.stringify({ ...msg, id }));
    return id;
  }
}
