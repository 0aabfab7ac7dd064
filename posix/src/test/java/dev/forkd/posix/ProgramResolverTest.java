package dev.forkd.posix;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ProgramResolverTest {

    @Test
    void aNameWithASlashIsUsedAsIs() {
        assertEquals(Optional.of("/no/such/prog"), ProgramResolver.resolve("/no/such/prog", "/bin"));
    }

    @Test
    void aBareNameIsSearchedInPathOrder(@TempDir Path dir) throws Exception {
        Path first = Files.createDirectory(dir.resolve("first"));
        Path second = Files.createDirectory(dir.resolve("second"));
        Path notExec = Files.writeString(first.resolve("tool"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(notExec, PosixFilePermissions.fromString("rw-r--r--"));
        Files.createDirectory(dir.resolve("third"));
        Files.createDirectory(dir.resolve("third").resolve("tool"));
        Path exec = Files.writeString(second.resolve("tool"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(exec, PosixFilePermissions.fromString("rwxr-xr-x"));
        String path = first + ":" + dir.resolve("third") + ":" + second;
        assertEquals(Optional.of(exec.toString()), ProgramResolver.resolve("tool", path));
    }

    @Test
    void aMissingProgramIsEmpty() {
        assertEquals(Optional.empty(), ProgramResolver.resolve("nosuch-program-xyz", "/usr/bin:/bin"));
        assertEquals(Optional.empty(), ProgramResolver.resolve("", "/usr/bin:/bin"));
    }

    @Test
    void systemProgramsAreFound() {
        assertEquals("sh", Path.of(ProgramResolver.resolve("sh", "/usr/bin:/bin").orElseThrow())
                .getFileName().toString());
    }
}
