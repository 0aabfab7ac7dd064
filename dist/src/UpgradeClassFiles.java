import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.CodeTransform;
import java.lang.constant.ClassDesc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * UpgradeClassFiles JAR: rewrites, in place, the classes of a jar compiled for Java 5 or older as
 * Java 8 class files (the same bytecode, with the stack maps Java 6+ class files carry). Run by
 * build-dist.sh on picocli, whose jar targets Java 5: the JDK's AOT cache refuses classes that old
 * ("Old class has been linked") and every short command then loads, parses and verifies all of
 * picocli's classes again. Classes already at Java 6 or later, and META-INF, are left as they are.
 */
public final class UpgradeClassFiles {

    public static void main(String[] args) throws IOException {
        Path jar = Path.of(args[0]);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(jar))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                entries.put(e.getName(), in.readAllBytes());
            }
        }
        // Stack maps need the class hierarchy: the jar's own classes, then the JDK's.
        ClassHierarchyResolver ownClasses = ClassHierarchyResolver.ofResourceParsing((ClassDesc d) -> {
            String name = d.descriptorString();
            byte[] bytes = entries.get(name.substring(1, name.length() - 1) + ".class");
            return bytes == null ? null : new ByteArrayInputStream(bytes);
        });
        // Stack maps always: by default they are made only for classes that already need them.
        ClassFile cf = ClassFile.of(ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
                ClassFile.ClassHierarchyResolverOption.of(ownClasses.orElse(ClassHierarchyResolver.defaultResolver())));
        // Code rebuilt (so stack maps are generated), the version element replaced by Java 8's.
        ClassTransform upgrade = ClassTransform.dropping(e -> e instanceof ClassFileVersion)
                .andThen(ClassTransform.endHandler(b -> b.withVersion(ClassFile.JAVA_8_VERSION, 0)))
                .andThen(ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL));
        int upgraded = 0;
        Path out = jar.resolveSibling(jar.getFileName() + ".tmp");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(out))) {
            for (var e : entries.entrySet()) {
                byte[] bytes = e.getValue();
                if (e.getKey().endsWith(".class") && !e.getKey().startsWith("META-INF/")) {
                    var model = cf.parse(bytes);
                    if (model.majorVersion() < ClassFile.JAVA_6_VERSION) {
                        bytes = cf.transformClass(model, upgrade);
                        upgraded++;
                    }
                }
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(bytes);
                zip.closeEntry();
            }
        }
        Files.move(out, jar, StandardCopyOption.REPLACE_EXISTING);
        System.err.println("[dist] " + jar.getFileName() + ": " + upgraded + " classes rewritten as Java 8 class files");
    }
}
