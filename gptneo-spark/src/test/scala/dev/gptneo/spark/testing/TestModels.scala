package dev.gptneo.spark.testing

import java.io.File
import java.nio.{ByteBuffer, ByteOrder}
import java.nio.file.{Files, Path, StandardCopyOption}

import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.node.ObjectNode

import dev.gptneo.engine.api.{Engine, EngineOptions}

/** Where the test models are, and engines opened directly (the reference the Spark results must equal). */
object TestModels {
  val repo: File = sys.props.get("gptneo.repo").map(new File(_)).getOrElse(new File("..")).getCanonicalFile
  val demo: File = new File(repo, "datasets-sample/models/gpt-neo-demo")
  val shared: File = sys.props.get("gptneo.shared").map(new File(_)).getOrElse(new File(repo, "../shared"))
    .getCanonicalFile

  /** The demo model plus random QA and token-classification heads: for gptneo_answer / token_classify. */
  lazy val withHeads: File = {
    val dir = Files.createTempDirectory("gptneo-heads-model")
    dir.toFile.deleteOnExit()
    for (f <- demo.listFiles() if f.isFile && f.getName != "model.safetensors") {
      Files.copy(f.toPath, dir.resolve(f.getName), StandardCopyOption.REPLACE_EXISTING)
    }
    val hidden = 128
    val rnd = new java.util.Random(42)
    def randomF32(n: Int): Array[Float] = Array.fill(n)((rnd.nextGaussian() * 0.5).toFloat)
    SafetensorsFixture.addTensors(demo.toPath.resolve("model.safetensors"), dir.resolve("model.safetensors"), Seq(
      ("qa_outputs.weight", Array(2, hidden), randomF32(2 * hidden)),
      ("qa_outputs.bias", Array(2), randomF32(2)),
      ("classifier.weight", Array(2, hidden), randomF32(2 * hidden)),
      ("classifier.bias", Array(2), randomF32(2))))
    dir.toFile
  }

  /** A copy of a model folder whose content hash differs (an extra key in config.json, which loaders ignore). */
  def variant(of: File, tag: String): File = {
    val dir = Files.createTempDirectory("gptneo-variant-" + tag)
    for (f <- of.listFiles() if f.isFile) {
      Files.copy(f.toPath, dir.resolve(f.getName), StandardCopyOption.REPLACE_EXISTING)
    }
    val config = dir.resolve("config.json")
    val json = new ObjectMapper().readTree(config.toFile).asInstanceOf[ObjectNode]
    json.put("gptneo_test_variant", tag)
    new ObjectMapper().writeValue(config.toFile, json)
    dir.toFile
  }

  private val engines = scala.collection.mutable.Map[File, Engine]()

  /** An engine opened directly on a folder, once per test JVM (separate from the executors' cache). */
  def engine(dir: File): Engine = synchronized {
    engines.getOrElseUpdate(dir, Engine.open(dir.toPath, EngineOptions.builder().threads(2).build()))
  }
}

/** Writes a safetensors file: the tensors of another file plus new F32 tensors. */
object SafetensorsFixture {
  def addTensors(from: Path, to: Path, extra: Seq[(String, Array[Int], Array[Float])]): Unit = {
    val bytes = Files.readAllBytes(from)
    val headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong.toInt
    val mapper = new ObjectMapper()
    val header = mapper.readTree(new String(bytes, 8, headerLen, "UTF-8")).asInstanceOf[ObjectNode]
    val data = java.util.Arrays.copyOfRange(bytes, 8 + headerLen, bytes.length)
    val out = new java.io.ByteArrayOutputStream()
    out.write(data)
    for ((name, shape, values) <- extra) {
      val start = out.size()
      val buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN)
      values.foreach(v => buf.putFloat(v))
      out.write(buf.array())
      val node = header.putObject(name)
      node.put("dtype", "F32")
      val shapeNode = node.putArray("shape")
      shape.foreach(d => shapeNode.add(d))
      val offsets = node.putArray("data_offsets")
      offsets.add(start.toLong)
      offsets.add(out.size().toLong)
    }
    var json = mapper.writeValueAsString(header).getBytes("UTF-8")
    val padded = (json.length + 7) / 8 * 8
    json = json ++ Array.fill[Byte](padded - json.length)(' '.toByte)
    val file = new java.io.ByteArrayOutputStream()
    file.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length.toLong).array())
    file.write(json)
    file.write(out.toByteArray)
    Files.write(to, file.toByteArray)
  }
}
