package dev.authservice.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server's package rules, as docs/architecture.md states them: no package loop; only the gRPC
 * edge (and the bootstrap, which starts it) touches gRPC and the generated messages; only the
 * storage adapters (and the bootstrap) touch the MongoDB driver; only the bootstrap knows the
 * embedded store; nothing depends on the bootstrap.
 */
class ArchitectureTest {
  private static final String ROOT = "dev.authservice.server";
  private static JavaClasses server;

  @BeforeAll
  static void load() {
    server = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages(ROOT);
  }

  @Test
  void noPackageLoop() {
    slices().matching(ROOT + ".(**)").should().beFreeOfCycles().check(server);
  }

  @Test
  void onlyTheEdgeAndTheBootstrapTouchGrpcOrTheGeneratedMessages() {
    noClasses().that().resideOutsideOfPackages(ROOT + ".grpc..").and().resideOutsideOfPackage(ROOT)
        .should().dependOnClassesThat().resideInAnyPackage("io.grpc..", "dev.authservice.proto..",
            "io.envoyproxy..", "com.google.rpc..", "com.google.protobuf..")
        .check(server);
  }

  @Test
  void onlyStorageAdaptersAndTheBootstrapTouchTheMongoDbDriver() {
    noClasses().that().resideOutsideOfPackages(ROOT + ".storage..").and().resideOutsideOfPackage(ROOT)
        .should().dependOnClassesThat().resideInAnyPackage("com.mongodb..", "org.bson..")
        .check(server);
  }

  @Test
  void onlyTheBootstrapKnowsTheEmbeddedStore() {
    noClasses().that().resideOutsideOfPackage(ROOT)
        .should().dependOnClassesThat().resideInAnyPackage("dev.authservice.embedded..", ROOT + ".storage.embedded..",
            "de.bwaldvogel..")
        .check(server);
  }

  @Test
  void nothingDependsOnTheBootstrap() {
    noClasses().that().resideOutsideOfPackage(ROOT)
        .should().dependOnClassesThat().resideInAPackage(ROOT)
        .check(server);
  }

  @Test
  void theCommandLineOptionsArePlainJava() {
    classes().that().resideInAPackage(ROOT + ".options")
        .should().onlyDependOnClassesThat().resideInAnyPackage(ROOT + ".options", "java..")
        .check(server);
  }
}
