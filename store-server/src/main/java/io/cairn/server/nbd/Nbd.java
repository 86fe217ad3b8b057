package io.cairn.server.nbd;

/** Wire constants of the NBD protocol (doc/proto.md of NetworkBlockDevice/nbd), the subset served. */
final class Nbd {
  private Nbd() {}

  static final long NBDMAGIC = 0x4e42444d41474943L;
  static final long IHAVEOPT = 0x49484156454F5054L;
  static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
  static final int REQUEST_MAGIC = 0x25609513;
  static final int SIMPLE_REPLY_MAGIC = 0x67446698;
  static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

  // handshake flags (server) and client flags
  static final int FLAG_FIXED_NEWSTYLE = 1;
  static final int FLAG_NO_ZEROES = 2;
  static final int FLAG_C_FIXED_NEWSTYLE = 1;
  static final int FLAG_C_NO_ZEROES = 2;

  // options
  static final int OPT_EXPORT_NAME = 1;
  static final int OPT_ABORT = 2;
  static final int OPT_LIST = 3;
  static final int OPT_STARTTLS = 5;
  static final int OPT_INFO = 6;
  static final int OPT_GO = 7;
  static final int OPT_STRUCTURED_REPLY = 8;
  static final int OPT_LIST_META_CONTEXT = 9;
  static final int OPT_SET_META_CONTEXT = 10;

  // option replies
  static final int REP_ACK = 1;
  static final int REP_SERVER = 2;
  static final int REP_INFO = 3;
  static final int REP_META_CONTEXT = 4;
  static final int REP_ERR_UNSUP = 0x80000001;
  static final int REP_ERR_POLICY = 0x80000002;
  static final int REP_ERR_INVALID = 0x80000003;
  static final int REP_ERR_TLS_REQD = 0x80000005;
  static final int REP_ERR_UNKNOWN = 0x80000006;

  // NBD_INFO_*
  static final int INFO_EXPORT = 0;
  static final int INFO_NAME = 1;
  static final int INFO_DESCRIPTION = 2;
  static final int INFO_BLOCK_SIZE = 3;

  // transmission flags
  static final int TF_HAS_FLAGS = 1;
  static final int TF_READ_ONLY = 1 << 1;
  static final int TF_SEND_FLUSH = 1 << 2;
  static final int TF_SEND_FUA = 1 << 3;
  static final int TF_SEND_TRIM = 1 << 5;
  static final int TF_SEND_WRITE_ZEROES = 1 << 6;
  static final int TF_CAN_MULTI_CONN = 1 << 8;

  // commands and their flags
  static final int CMD_READ = 0;
  static final int CMD_WRITE = 1;
  static final int CMD_DISC = 2;
  static final int CMD_FLUSH = 3;
  static final int CMD_TRIM = 4;
  static final int CMD_WRITE_ZEROES = 6;
  static final int CMD_BLOCK_STATUS = 7;
  static final int CMD_FLAG_FUA = 1;
  static final int CMD_FLAG_REQ_ONE = 1 << 3;

  // structured reply chunks
  static final int REPLY_FLAG_DONE = 1;
  static final int REPLY_TYPE_NONE = 0;
  static final int REPLY_TYPE_OFFSET_DATA = 1;
  static final int REPLY_TYPE_OFFSET_HOLE = 2;
  static final int REPLY_TYPE_BLOCK_STATUS = 5;
  static final int REPLY_TYPE_ERROR = 0x8001;

  // base:allocation
  static final String BASE_ALLOCATION = "base:allocation";
  /** The id this server gives {@code base:allocation}; any non-zero value would do. */
  static final int BASE_ALLOCATION_ID = 1;
  static final int STATE_HOLE = 1;
  static final int STATE_ZERO = 2;

  // errno values on the wire
  static final int EPERM = 1;
  static final int EIO = 5;
  static final int EINVAL = 22;
  static final int ENOSPC = 28;
  static final int EOVERFLOW = 75;
  static final int ENOTSUP = 95;
  static final int ESHUTDOWN = 108;

  /** Largest READ or WRITE payload: what one request may make a connection hold in memory. */
  static final int MAX_PAYLOAD = 4 << 20;
  /** Largest option payload (export names and meta context queries are short). */
  static final int MAX_OPTION = 64 * 1024;
}
