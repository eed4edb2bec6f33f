package dev.gptneo.spark.procedures;

import dev.gptneo.spark.GptNeoSpark;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.ProcedureCatalog;
import org.apache.spark.sql.connector.catalog.procedures.ProcedureParameter;
import org.apache.spark.sql.connector.catalog.procedures.SimpleProcedure;
import org.apache.spark.sql.connector.catalog.procedures.UnboundProcedure;
import org.apache.spark.sql.connector.read.LocalScan;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * The {@code gptneo} catalog's procedures, for SQL and Spark Connect clients, which cannot reach
 * {@link GptNeoSpark}'s Java methods: {@code CALL gptneo.system.unload_models()}. The extension sets
 * {@code spark.sql.catalog.gptneo} to this class in every session unless it is set already.
 */
public final class GptNeoProcedures implements ProcedureCatalog {
  /** The catalog's name in SQL, and its setting. */
  public static final String NAME = "gptneo";
  public static final String CONF = "spark.sql.catalog." + NAME;

  private static final String NAMESPACE = "system";
  private static final String UNLOAD = "unload_models";

  private String name = NAME;

  /** Sets {@link #CONF} in the session unless it is set (to this class or to another catalog) already. */
  public static void registerIn(SparkSession session) {
    if (!session.conf().contains(CONF)) {
      session.conf().set(CONF, GptNeoProcedures.class.getName());
    }
  }

  @Override
  public void initialize(String name, CaseInsensitiveStringMap options) {
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public UnboundProcedure loadProcedure(Identifier ident) {
    if (Arrays.equals(ident.namespace(), new String[] {NAMESPACE})
        && ident.name().toLowerCase(Locale.ROOT).equals(UNLOAD)) {
      return new UnloadModels();
    }
    throw new IllegalArgumentException("no procedure " + name + "." + String.join(".", ident.namespace())
        + (ident.namespace().length > 0 ? "." : "") + ident.name() + "; the gptneo procedures are: "
        + name + "." + NAMESPACE + "." + UNLOAD + "()");
  }

  @Override
  public Identifier[] listProcedures(String[] namespace) {
    return Arrays.equals(namespace, new String[] {NAMESPACE})
        ? new Identifier[] {Identifier.of(new String[] {NAMESPACE}, UNLOAD)} : new Identifier[0];
  }

  /** unload_models(): GptNeoSpark.unloadModels on the active session; one row, how many models were unloaded. */
  static final class UnloadModels implements SimpleProcedure {
    private static final StructType RESULT = new StructType().add("unloaded", DataTypes.IntegerType, false);

    @Override
    public String name() {
      return UNLOAD;
    }

    @Override
    public String description() {
      return "Unloads every gptneo model in the driver and the executors (engines in use close when their tasks"
          + " finish); returns how many were loaded.";
    }

    @Override
    public ProcedureParameter[] parameters() {
      return new ProcedureParameter[0];
    }

    @Override
    public boolean isDeterministic() {
      return false;
    }

    @Override
    public Iterator<Scan> call(InternalRow input) {
      int unloaded = GptNeoSpark.unloadModels(SparkSession.active());
      InternalRow row = new GenericInternalRow(new Object[] {unloaded});
      return Collections.<Scan>singletonList(new Result(row)).iterator();
    }
  }

  /** A procedure's rows. */
  private static final class Result implements LocalScan {
    private final InternalRow[] rows;

    Result(InternalRow... rows) {
      this.rows = rows;
    }

    @Override
    public InternalRow[] rows() {
      return rows;
    }

    @Override
    public StructType readSchema() {
      return UnloadModels.RESULT;
    }
  }
}
