/**
 * Follows an MQTT byte stream chunk by chunk, reading only each packet's fixed header (MQTT 3.1.1 §2.2, 5.0 §2.1.1: a
 * type byte and a variable-length remaining length), so that a packet announcing more than `maxPacketBytes` is
 * refused at its header: before it is read or buffered, CONNECT included. Plain state, no stream of its own: the
 * broker's hot path pays a few comparisons per packet.
 */
export class PacketSizeGuard {
  private typeRead = false;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  /** Bytes of the current packet's body still to come (0: a fixed header is next). */
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Takes the next chunk; returns the size announced over the limit (Infinity: a malformed length), or undefined. */
  check(chunk: Buffer): number | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        continue;
      }
      if (!this.typeRead) {
        i++;
        this.typeRead = true;
        [this.length, this.multiplier, this.lengthBytes] = [0, 1, 0];
        continue;
      }
      const byte = chunk[i++]!;
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return Number.POSITIVE_INFINITY;
        continue;
      }
      if (this.length > this.maxPacketBytes) return this.length;
      this.typeRead = false;
      this.remaining = this.length;
    }
    return undefined;
  }
}
