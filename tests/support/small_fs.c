/* small_fs.c — see small_fs.h. */
#include "tests/support/small_fs.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

void fx_small_fs_mount(struct fx_small_fs *fs, const char *prefix) {
  snprintf(fs->mnt, sizeof fs->mnt, "/tmp/%s-XXXXXX", prefix);
  cr_assert_not_null(mkdtemp(fs->mnt));
  if (mount("tmpfs", fs->mnt, "tmpfs", 0, "size=3m")) {
    int e = errno;
    rmdir(fs->mnt);
    cr_skip_test("cannot mount a small tmpfs (%s); disk-full test skipped", strerror(e));
  }
  snprintf(fs->store, sizeof fs->store, "%s/store", fs->mnt);
  snprintf(fs->ballast, sizeof fs->ballast, "%s/ballast", fs->mnt);
  int fd = open(fs->ballast, O_CREAT | O_WRONLY, 0600);
  cr_assert_geq(fd, 0);
  static const char zeros[512 << 10];
  cr_assert_eq(write(fd, zeros, sizeof zeros), (ssize_t)sizeof zeros);
  close(fd);
}

void fx_small_fs_unmount(struct fx_small_fs *fs) {
  umount2(fs->mnt, MNT_DETACH);
  rmdir(fs->mnt);
}
