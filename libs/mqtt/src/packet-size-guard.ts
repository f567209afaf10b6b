import { Transform, type TransformCallback } from 'node:stream';

/** A packet's fixed header announced more than the limit. */
export class PacketTooLargeError extends Error {
  readonly code = 'packet_too_large';
  constructor(readonly bytes: number) {
    super(`MQTT packet of ${bytes} bytes announced, over the limit`);
  }
}

/**
 * Passes an MQTT byte stream through unchanged, reading only each packet's fixed header (MQTT 3.1.1 §2.2, 5.0 §2.1.1:
 * a type byte and a variable-length remaining length), and fails the stream as soon as a header announces more than
 * `maxPacketBytes`: before the packet is read or buffered, CONNECT included.
 */
export class PacketSizeGuard extends Transform {
  private inHeader = true;
  private typeRead = false;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (!this.inHeader) {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.inHeader = true;
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
        if (this.lengthBytes === 4) return done(new PacketTooLargeError(Number.POSITIVE_INFINITY));
        continue;
      }
      if (this.length > this.maxPacketBytes) return done(new PacketTooLargeError(this.length));
      this.typeRead = false;
      this.remaining = this.length;
      this.inHeader = this.remaining === 0;
    }
    done(null, chunk);
  }
}
