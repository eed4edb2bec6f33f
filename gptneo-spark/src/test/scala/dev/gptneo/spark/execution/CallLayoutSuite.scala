package dev.gptneo.spark.execution

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.catalyst.expressions.{AttributeReference, Expression}
import org.apache.spark.sql.types.StringType
import org.scalatest.funsuite.AnyFunSuite

import dev.gptneo.spark.functions.{GptNeoCall, GptNeoFunction, OptionsParser}

/** Calls with the same model and engine options share batches; identical inputs share entries. */
class CallLayoutSuite extends AnyFunSuite {
  private val subject = AttributeReference("subject", StringType)()
  private val body = AttributeReference("body", StringType)()

  private def call(f: GptNeoFunction, input: Expression, options: (String, String)*): GptNeoCall =
    new GptNeoCall(f, java.util.List.of(input), OptionsParser.parse(f, options.toMap.asJava, _ => true), "")

  test("groups by function and engine options; output and on_error do not split a group") {
    val calls = Seq(
      call(GptNeoFunction.CLASSIFY, subject),
      call(GptNeoFunction.CLASSIFY, body),
      call(GptNeoFunction.CLASSIFY, subject, "output" -> "struct", "on_error" -> "null"),
      call(GptNeoFunction.CLASSIFY, subject, "max_input_tokens" -> "16"),
      call(GptNeoFunction.GENERATE, subject, "max_new_tokens" -> "4"),
      call(GptNeoFunction.GENERATE, body, "max_new_tokens" -> "4"))
    val layout = new CallLayout(calls.asJava)
    assert(layout.groups.size == 3)
    assert(layout.callGroup.toSeq == Seq(0, 0, 0, 1, 2, 2))
    assert(layout.callSlot.toSeq == Seq(0, 1, 0, 0, 0, 1), "the struct call reuses the plain call's entries")
    assert(layout.groups.get(0).slots == 2)
    assert(layout.inputs.size == 2, "subject and body are projected once per row")
  }
}
