/**
 * One turn of the event loop. On the CPU backend a tensor read resolves at once (a microtask), so a
 * loop of ops and reads never lets a timer, a worker message or an I/O callback run; awaiting this
 * lets them (an AbortSignal fired by a timer is then seen). setImmediate in Node costs microseconds;
 * a MessageChannel message is the browser's macrotask without setTimeout's clamping to 4 ms.
 */
export function nextMacrotask(): Promise<void> {
  const g = globalThis as {
    setImmediate?: (fn: () => void) => unknown;
    MessageChannel?: typeof MessageChannel;
  };
  return new Promise<void>((resolve) => {
    if (g.setImmediate) g.setImmediate(resolve);
    else if (g.MessageChannel) {
      const channel = new g.MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    } else setTimeout(resolve, 0);
  });
}
