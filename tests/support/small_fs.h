/* small_fs.h — a nearly full file system for disk-full tests: a 3 MiB tmpfs
 * mounted on a fresh directory, with a 512 KiB ballast file whose removal
 * frees room again. The test is skipped (not failed) where mounting is not
 * allowed, e.g. without CAP_SYS_ADMIN. */
#ifndef FX_TEST_SMALL_FS_H
#define FX_TEST_SMALL_FS_H

struct fx_small_fs {
  char mnt[64];      /* the mount point */
  char store[96];    /* mnt/store: where a test puts its store */
  char ballast[96];  /* mnt/ballast: unlink it to make room */
};

/* Mounts and fills; skips the calling test if the mount is refused. */
void fx_small_fs_mount(struct fx_small_fs *fs, const char *prefix);
/* Unmounts and removes the mount point (the store must be removed first). */
void fx_small_fs_unmount(struct fx_small_fs *fs);

#endif
