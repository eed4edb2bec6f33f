package dev.gptneo.spark.internal;

import java.util.ArrayList;
import java.util.List;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/** Conversions between Java and Scala collections, in one place. */
public final class Scala {
  private Scala() {}

  public static <T> Seq<T> seq(List<T> list) {
    return CollectionConverters.asScala(list).toSeq();
  }

  @SafeVarargs
  public static <T> Seq<T> seq(T... items) {
    return seq(List.of(items));
  }

  /** Scala collections are covariant; Java generics are not. */
  @SuppressWarnings("unchecked")
  public static <T> Seq<T> widen(Seq<? extends T> seq) {
    return (Seq<T>) seq;
  }

  public static <T> List<T> list(scala.collection.Iterable<T> seq) {
    return new ArrayList<>(CollectionConverters.asJavaCollection(seq));
  }

  public static <K, V> scala.collection.immutable.Map<K, V> map(java.util.Map<K, V> map) {
    return scala.collection.immutable.Map$.MODULE$.from(CollectionConverters.asScala(map));
  }

  public static <T> scala.collection.immutable.Seq<T> emptySeq() {
    return scala.collection.immutable.List$.MODULE$.empty();
  }
}
