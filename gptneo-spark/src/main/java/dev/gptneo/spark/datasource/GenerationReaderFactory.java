package dev.gptneo.spark.datasource;

import dev.gptneo.spark.GptNeoConf;
import dev.gptneo.spark.distribution.ModelHandle;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/** Sent to the executors: the options, the model's handle and the settings; readers are columnar only. */
final class GenerationReaderFactory implements PartitionReaderFactory {
  private static final long serialVersionUID = 1L;

  final GenerationOptions options;
  final ModelHandle model;
  final GptNeoConf conf;

  GenerationReaderFactory(GenerationOptions options, ModelHandle model, GptNeoConf conf) {
    this.options = options;
    this.model = model;
    this.conf = conf;
  }

  @Override
  public boolean supportColumnarReads(InputPartition partition) {
    return true;
  }

  @Override
  public PartitionReader<ColumnarBatch> createColumnarReader(InputPartition partition) {
    return new GenerationReader((GenerationScan.GenerationPartition) partition, this, TaskContext.get());
  }

  @Override
  public PartitionReader<InternalRow> createReader(InputPartition partition) {
    throw new UnsupportedOperationException("the gptneo source reads columnar batches only");
  }
}
