/**
 * Disk sources: the guest-visible bytes of a virtual disk file, raw ({@link
 * io.cairn.disk.RawFileSource}, holes found with SEEK_DATA/SEEK_HOLE) or qcow2 ({@link
 * io.cairn.disk.Qcow2Source}, read natively), behind {@link io.cairn.disk.DiskSource}.
 */
package io.cairn.disk;
