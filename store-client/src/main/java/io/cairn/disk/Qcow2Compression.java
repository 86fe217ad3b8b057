package io.cairn.disk;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdException;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * How compressed clusters are encoded (header field {@code compression_type}). Compressed data is
 * stored sector-granular, so the input may run past the end of the stream into padding or the next
 * cluster's data; both decoders stop once a whole cluster has been produced, as qemu does.
 */
enum Qcow2Compression {
  /** Raw deflate: no zlib header or checksum (qemu uses window bits -12). */
  ZLIB {
    @Override
    boolean decompress(byte[] src, int srcLength, byte[] cluster) {
      Inflater inflater = new Inflater(true);
      try {
        inflater.setInput(src, 0, srcLength);
        int produced = 0;
        while (produced < cluster.length) {
          int n = inflater.inflate(cluster, produced, cluster.length - produced);
          produced += n;
          if (n == 0) {
            return false; // stream ended, input ran out or needs a dictionary: short of a cluster
          }
        }
        return true;
      } catch (DataFormatException e) {
        return false;
      } finally {
        inflater.end();
      }
    }
  },

  /** One or more zstd frames, possibly followed by padding up to the sector end. */
  ZSTD {
    @Override
    boolean decompress(byte[] src, int srcLength, byte[] cluster) {
      int in = 0;
      int produced = 0;
      // Frame by frame rather than one call over the whole input: the trailing padding is not a
      // frame, and one-shot decompression would reject it as a bad magic number.
      try {
        while (produced < cluster.length) {
          if (in >= srcLength) {
            return false;
          }
          long frame = Zstd.findFrameCompressedSize(src, in, srcLength - in);
          long n =
              Zstd.decompressByteArray(
                  cluster, produced, cluster.length - produced, src, in, (int) frame);
          if (Zstd.isError(n)) {
            return false;
          }
          in += (int) frame;
          produced += (int) n;
        }
      } catch (ZstdException e) {
        return false;
      }
      return true;
    }
  };

  /**
   * Fills {@code cluster} completely from the compressed bytes {@code src[0, srcLength)}. Returns
   * false when the input is not a valid stream or ends before a whole cluster was produced.
   */
  abstract boolean decompress(byte[] src, int srcLength, byte[] cluster);
}
