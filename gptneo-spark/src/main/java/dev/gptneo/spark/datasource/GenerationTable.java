package dev.gptneo.spark.datasource;

import java.util.Set;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/** The generated table: one row per sample, as its options (checked when it was loaded) say. */
final class GenerationTable implements SupportsRead {
  /** id, then gptneo_generate's struct fields (the prompt is an option, the same for every row). */
  static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("text", DataTypes.StringType, true)
      .add("finish_reason", DataTypes.StringType, true)
      .add("prompt_tokens", DataTypes.IntegerType, true)
      .add("completion_tokens", DataTypes.IntegerType, true)
      .add("error", DataTypes.StringType, true);

  private final GenerationOptions options;

  GenerationTable(GenerationOptions options) {
    this.options = options;
  }

  @Override
  public String name() {
    return "gptneo";
  }

  @Override
  public StructType schema() {
    return SCHEMA;
  }

  @Override
  public Set<TableCapability> capabilities() {
    return Set.of(TableCapability.BATCH_READ);
  }

  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap scanOptions) {
    return new GenerationScan(options);
  }
}
