package dev.gptneo.spark.testing

import java.net.URI

import org.apache.hadoop.fs.RawLocalFileSystem

/**
 * The local disk under another scheme (gptneotest:), standing in for hdfs: or s3a: in tests:
 * a model there is not a local path, so executors copy it through the Hadoop FileSystem API.
 */
class OtherFileSystem extends RawLocalFileSystem {
  override def getUri: URI = URI.create("gptneotest:///")
  override def getScheme: String = "gptneotest"
}
