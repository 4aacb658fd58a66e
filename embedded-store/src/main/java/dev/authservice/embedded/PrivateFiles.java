package dev.authservice.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A data directory holds the embedded store (for the auth server: password hashes, server
 * secrets, signing keys) and whatever else its user keeps beside it (the server's audit spool):
 * only the OS user running the process may open it. The directory is created {@code 0700}
 * and every file the server makes in it {@code 0600}, set explicitly so the umask does not matter;
 * at start, whatever is found open to group or others loses those permissions, with one warning
 * each, and a data directory, or a file in it, that another user owns is refused. Symbolic links
 * inside the directory are left alone (changing them would change their targets). On a file
 * system without POSIX permissions this only warns.
 */
public final class PrivateFiles {
  private static final Logger log = LoggerFactory.getLogger(PrivateFiles.class);
  private static final Set<PosixFilePermission> OWNER_DIRECTORY = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> GROUP_AND_OTHERS = EnumSet.complementOf(EnumSet.of(
      PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE));

  private PrivateFiles() {}

  /**
   * Creates the directory for its owner only, or, when it exists, takes group and others'
   * permissions from it and from every file and directory directly in it.
   */
  public static void secureDirectory(Path dir) {
    try {
      if (!Files.isDirectory(dir)) {
        create(dir);
      }
      if (!posix(dir)) {
        log.warn("data directory {} is on a file system without POSIX permissions: it cannot be restricted to"
            + " the server's user here; restrict access to it by other means", dir);
        return;
      }
      requireOwnDirectory(dir);
      tighten(dir, "data directory", true);
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
        for (Path entry : entries) {
          if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
            // not the server's (it keeps files only): a mount's lost+found, an operator's folder
            if (ownedByTheDirectorysOwner(entry, dir)) {
              tighten(entry, "directory", false);
            } else {
              log.warn("directory {} in the data directory belongs to another user; left as it is", entry);
            }
            continue;
          }
          // a file or a link of another user may stand in for one of the server's: refused
          requireOwnFile(entry, dir);
          if (!Files.isSymbolicLink(entry)) {
            tighten(entry, "file", false);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create or restrict the data directory " + dir, e);
    }
  }

  /**
   * Creates an empty file only its owner may read and write, before a library opens it with the
   * umask's permissions; a file that exists already is tightened instead.
   */
  public static void secureFile(Path file) {
    Path dir = file.toAbsolutePath().getParent();
    try {
      if (!posix(dir)) {
        return;
      }
      try {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_FILE));
        // the attribute above is masked by the umask; this is not
        Files.setPosixFilePermissions(file, OWNER_FILE);
      } catch (FileAlreadyExistsException e) {
        // a link of another user is refused like a file of theirs: the library would follow it
        requireOwnFile(file, dir);
        if (!Files.isSymbolicLink(file)) {
          tighten(file, "file", false);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + file + " for the server's user only", e);
    }
  }

  /**
   * Refuses a data directory another user owns: that user could replace any file in it, and only
   * the owner can take its permissions away (a container volume's root belongs to root, mode 0777,
   * so the server makes its own directory inside it instead: the image's {@code /data/auth}).
   * "Another user" is judged the way the file system sees this process: against the owner it gives
   * a file this process makes there, so a mount that maps every owner to one uid (NFS squashing,
   * an EFS access point, CIFS {@code uid=}) passes as it should.
   */
  private static void requireOwnDirectory(Path dir) throws IOException {
    if (!Files.getFileStore(dir).supportsFileAttributeView("unix")) {
      return;
    }
    Object owner = Files.getAttribute(dir, "unix:uid");
    Object self = ownerOfANewFile(dir);
    if (!owner.equals(self)) {
      throw new IllegalStateException("the data directory " + dir + " belongs to uid " + owner + ", not to the user"
          + " running the server (uid " + self + " there): that user could replace the files in it. Point"
          + " AUTH_DATA_DIR at a directory of the server's user, or at a path it can create (inside a shared volume,"
          + " a subdirectory: the container image uses /data/auth)");
    }
  }

  /** The owner the file system gives a file this process makes in {@code dir}. */
  private static Object ownerOfANewFile(Path dir) throws IOException {
    Path probe;
    try {
      probe = Files.createTempFile(dir, ".owner-check-", ".tmp");
    } catch (java.nio.file.AccessDeniedException e) {
      throw new IllegalStateException("the data directory " + dir + " (uid " + Files.getAttribute(dir, "unix:uid")
          + ") is not writable by the user running the server. Point AUTH_DATA_DIR at a directory of the server's"
          + " user, or at a path it can create (inside a shared volume, a subdirectory: the container image uses"
          + " /data/auth)");
    }
    try {
      return Files.getAttribute(probe, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    } finally {
      Files.deleteIfExists(probe);
    }
  }

  private static boolean ownedByTheDirectorysOwner(Path entry, Path dir) throws IOException {
    return !Files.getFileStore(dir).supportsFileAttributeView("unix")
        || Files.getAttribute(entry, "unix:uid", LinkOption.NOFOLLOW_LINKS).equals(Files.getAttribute(dir, "unix:uid"));
  }

  /**
   * Refuses a file, or a symbolic link, in the data directory that another user owns (the
   * directory's owner was checked at start); a link's own owner, not its target's.
   */
  private static void requireOwnFile(Path file, Path dir) throws IOException {
    if (!ownedByTheDirectorysOwner(file, dir)) {
      Object owner = Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      Object expected = Files.getAttribute(dir, "unix:uid");
      throw new IllegalStateException(file + " belongs to uid " + owner + ", not to the data directory's owner (uid "
          + expected + "): another user made it, and could have put anything in it; remove it, or restore the"
          + " server's own copy");
    }
  }

  private static void create(Path dir) throws IOException {
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    if (parent != null && !posix(parent)) {
      Files.createDirectories(dir);
      return;
    }
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_DIRECTORY));
      Files.setPosixFilePermissions(dir, OWNER_DIRECTORY);
    } catch (FileAlreadyExistsException e) {
      // made meanwhile by someone else: tightened like any existing directory
    }
  }

  private static boolean posix(Path path) throws IOException {
    return Files.getFileStore(path).supportsFileAttributeView(PosixFileAttributeView.class);
  }

  private static void tighten(Path path, String what, boolean followLinks) throws IOException {
    LinkOption[] options = followLinks ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
    Set<PosixFilePermission> found = Files.getPosixFilePermissions(path, options);
    if (found.stream().noneMatch(GROUP_AND_OTHERS::contains)) {
      return;
    }
    Set<PosixFilePermission> tightened = EnumSet.noneOf(PosixFilePermission.class);
    tightened.addAll(found);
    tightened.removeAll(GROUP_AND_OTHERS);
    Files.setPosixFilePermissions(path, tightened);
    log.warn("{} {} was open to other users ({}); tightened to {}", what, path,
        PosixFilePermissions.toString(found), PosixFilePermissions.toString(tightened));
  }
}
