package io.cairn.server.image;

import io.cairn.block.BlockHasher;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Writes an image back to a sparse raw file: zero blocks stay holes. The file is written under a
 * temporary name and renamed into place, so an interrupted export never leaves a partial file
 * under the final name. Every block is re-hashed before it is written.
 */
public final class ImageExporter {
  private final Images images;

  public ImageExporter(Images images) {
    this.images = images;
  }

  /** Returns the number of non-zero bytes written. */
  public long export(ImageRoot root, Path out, LongConsumer progress) throws IOException {
    Path tmp = out.resolveSibling("." + out.getFileName() + ".cairn-partial");
    int bs = root.blockSize().bytes();
    long size = root.size();
    long written = 0;
    byte[] buf = new byte[root.entriesPerPage() * bs];
    Files.deleteIfExists(tmp);
    try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(tmp.toFile(), "rw");
        FileChannel ch = raf.getChannel()) {
      raf.setLength(size); // a file of holes; only non-zero blocks get written
      for (int p = 0; p < root.pageCount(); p++) {
        PageId pid = root.pageId(p);
        long pageStart = (long) p * root.entriesPerPage() * bs;
        if (!pid.isZero()) {
          IndexPage page = images.page(pid);
          List<BlockId> ids = new ArrayList<>(page.count());
          for (int i = 0; i < page.count(); i++) {
            ids.add(page.blockId(i));
          }
          images.store().blocks().read(ids, buf, 0);
          int i = 0;
          while (i < ids.size()) {
            if (ids.get(i).isZero()) {
              i++;
              continue;
            }
            int j = i;
            while (j < ids.size() && !ids.get(j).isZero()) {
              BlockId actual = BlockHasher.hashBlock(buf, j * bs, bs);
              if (!actual.equals(ids.get(j))) {
                throw new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, ids.get(j), actual, "read from the store");
              }
              j++;
            }
            long pos = pageStart + (long) i * bs;
            int len = (int) Math.min((long) (j - i) * bs, size - pos);
            ByteBuffer src = ByteBuffer.wrap(buf, i * bs, len);
            while (src.hasRemaining()) {
              pos += ch.write(src, pos);
            }
            written += len;
            i = j;
          }
        }
        progress.accept(Math.min(size, pageStart + (long) root.entriesPerPage() * bs));
      }
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return written;
  }
}
