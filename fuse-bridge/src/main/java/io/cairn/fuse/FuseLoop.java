package io.cairn.fuse;

import java.util.ArrayList;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import jnr.ffi.types.size_t;
import ru.serce.jnrfuse.struct.FuseOperations;

/**
 * libfuse's request loop, run on threads the JVM started rather than on libfuse's own workers.
 *
 * <p>Why: jffi attaches a foreign thread to the JVM for every callback and detaches it again
 * afterwards, until that thread has made 1,000 callbacks. libfuse's multithreaded loop starts up to
 * ten workers, so the first ~10,000 requests of every mount (1.2 GiB of 128 KiB reads) each paid for
 * creating and tearing down a {@code java.lang.Thread}, and lost every thread-local (the SHA-256
 * digest of {@code BlockHasher} among them). A JVM thread calling into libfuse is already attached,
 * so its callbacks attach nothing.
 *
 * <p>This is what {@code fuse_main_real} does, split open: {@code fuse_setup} mounts and installs the
 * operations; each thread runs {@code fuse_session_loop}, which reads requests from /dev/fuse and
 * dispatches them (the kernel hands each request to one reader, as it does for libfuse's own
 * workers); when the file system is unmounted every read fails with ENODEV and the loops return;
 * only after all of them have returned does {@code fuse_teardown} free the session they used.
 */
final class FuseLoop {
  /** As many as libfuse's multithreaded loop starts at most. */
  static final int THREADS = 10;

  /** The libfuse 2.9 calls jnr-fuse does not bind. */
  public interface LibFuseLoop {
    Pointer fuse_setup(int argc, String[] argv, FuseOperations op, @size_t long opSize, PointerByReference mountpoint,
        IntByReference multithreaded, Pointer userData);

    Pointer fuse_get_session(Pointer fuse);

    int fuse_session_loop(Pointer session);

    void fuse_teardown(Pointer fuse, Pointer mountpoint);
  }

  private static LibFuseLoop library;

  private FuseLoop() {}

  /** libfuse's loop calls, loaded once per JVM (jnr-ffi generates the proxy; {@link NativeWarmUp} may do it early). */
  static synchronized LibFuseLoop library() {
    if (library == null) {
      library = LibraryLoader.create(LibFuseLoop.class).failImmediately().load("fuse");
    }
    return library;
  }

  /**
   * Mounts {@code ops} with libfuse arguments {@code argv} and serves requests until unmounted.
   * Returns false at once when libfuse refused to mount (it printed why).
   */
  static boolean run(FuseOperations ops, String[] argv) throws InterruptedException {
    LibFuseLoop lib = library();
    PointerByReference mountpoint = new PointerByReference();
    Pointer fuse = lib.fuse_setup(argv.length, argv, ops, jnr.ffi.Struct.size(ops), mountpoint, new IntByReference(),
        null);
    if (fuse == null) {
      return false;
    }
    Pointer session = lib.fuse_get_session(fuse);
    List<Thread> loops = new ArrayList<>();
    for (int i = 0; i < THREADS; i++) {
      Thread t = new Thread(() -> lib.fuse_session_loop(session), "cairn-fuse-" + (i + 1));
      t.setDaemon(true); // a signal's cleanup may end the process while a loop still waits on a busy lazy unmount
      t.start();
      loops.add(t);
    }
    for (Thread t : loops) {
      t.join();
    }
    lib.fuse_teardown(fuse, mountpoint.getValue()); // frees the session: only once no loop can touch it
    return true;
  }
}
