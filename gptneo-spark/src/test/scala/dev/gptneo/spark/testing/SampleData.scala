package dev.gptneo.spark.testing

import java.io.File

import scala.io.Source

import com.fasterxml.jackson.databind.ObjectMapper

/** The sample emails of datasets-sample (from the Spam Assassin validation split), and prompts. */
object SampleData {
  case class Email(id: String, subject: String, body: String, label: String) {
    def text: String = subject + "\n" + body
  }

  lazy val emails: Seq[Email] = {
    val file = new File(TestModels.repo, "datasets-sample/emails.jsonl")
    val mapper = new ObjectMapper()
    val src = Source.fromFile(file, "UTF-8")
    try src.getLines().filter(_.trim.nonEmpty).map { line =>
      val n = mapper.readTree(line)
      Email(n.get("id").asText(), n.get("subject").asText(), n.get("body").asText(), n.get("label").asText())
    }.toVector finally src.close()
  }

  val prompts: Seq[String] = Seq(
    "The meeting on Friday",
    "Dear friend, I am writing to",
    "The results of the experiment show",
    "Click here to claim your",
    "In the morning the village",
    "Thanks for the update on")
}
