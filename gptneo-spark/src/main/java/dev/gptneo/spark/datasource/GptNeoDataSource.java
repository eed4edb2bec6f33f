package dev.gptneo.spark.datasource;

import java.util.Map;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * The {@code gptneo} data source (DataSource V2): a table of texts the model writes from one
 * prompt, {@code rows} of them, each sampled with its own seed. Synthetic data for tests and
 * demos, in parallel over partitions:
 * <pre>
 * spark.read.format("gptneo").option("prompt", "Dear customer,").option("rows", 1000).load()
 * CREATE TEMPORARY VIEW drafts USING gptneo OPTIONS (prompt 'Dear customer,', rows '1000')
 * </pre>
 * Options: {@link GenerationOptions}. Columns: {@link GenerationTable#SCHEMA}.
 */
public final class GptNeoDataSource implements TableProvider, DataSourceRegister {
  @Override
  public String shortName() {
    return "gptneo";
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return GenerationTable.SCHEMA;
  }

  @Override
  public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
    if (schema != null && !schema.equals(GenerationTable.SCHEMA)) {
      throw new IllegalArgumentException("the gptneo source has a fixed schema (" + GenerationTable.SCHEMA.simpleString()
          + "); read it without .schema(...)");
    }
    return new GenerationTable(GenerationOptions.parse(properties)); // bad options fail here, at load()
  }
}
