package dev.gptneo.spark.distribution;

import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.spark.GptNeoConf;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * Which device a task's engines run on, from {@code spark.gptneo.device} and the GPUs Spark
 * assigned to the task. Rules:
 * <ul>
 *   <li>{@code cpu} (the default): the CPU, whatever Spark assigned.
 *   <li>{@code cuda} / {@code auto} with GPUs assigned by Spark: the first assigned address, or
 *       the {@code :N} of {@code cuda:N} when N is one of them. Spark's assignment wins over an
 *       N outside it (the cluster manager isolates GPUs between tasks), with a warning.
 *   <li>{@code cuda} / {@code auto} without (local masters never assign resources): GPU N of
 *       {@code cuda:N}, else 0.
 * </ul>
 * Addresses must be CUDA ordinals as the executor sees them ("0", "1", ...).
 */
public final class GpuAssignment {
  public static final String GPU = "gpu";

  /** cpu, cuda or auto. */
  public final String device;
  /** The GPU ordinal for cuda and auto; 0 for cpu. */
  public final int index;
  /** Why, for the log. */
  public final String reason;
  /** A setting this choice overrides or leaves unused, or null; the same for every task it concerns. */
  public final String warning;

  private GpuAssignment(String device, int index, String reason, String warning) {
    this.device = device;
    this.index = index;
    this.reason = reason;
    this.warning = warning;
  }

  /**
   * @param setting spark.gptneo.device as given (null: cpu)
   * @param assigned the task's GPU addresses from Spark, in Spark's order (empty: none)
   * @param taskId the task attempt id, for messages
   */
  public static GpuAssignment decide(String setting, List<String> assigned, long taskId) {
    EngineOptions parsed = EngineOptions.builder().device(setting == null ? "cpu" : setting).build();
    String device = parsed.device;
    boolean explicit = setting != null && setting.contains(":");
    String task = taskId < 0 ? "this task" : "task " + taskId;
    String list = String.join(",", assigned);
    if (device.equals("cpu")) {
      String warning = assigned.isEmpty() ? null : "Spark assigns GPUs to tasks, but " + GptNeoConf.DEVICE + " is cpu, so they stay idle; set it to auto or cuda to use them";
      return new GpuAssignment("cpu", 0, "device cpu", warning);
    }
    if (assigned.isEmpty()) {
      int index = parsed.deviceIndex;
      return new GpuAssignment(device, index, "no GPU resource assigned by Spark to " + task + "; device " + index
          + (explicit ? " from " + GptNeoConf.DEVICE + "=" + setting : ""), null);
    }
    int[] ordinals = new int[assigned.size()];
    for (int i = 0; i < ordinals.length; i++) {
      ordinals[i] = ordinal(assigned.get(i), setting, task);
    }
    if (explicit) {
      for (int o : ordinals) {
        if (o == parsed.deviceIndex) {
          return new GpuAssignment(device, o, "gpu " + o + " of the gpus " + list + " assigned by Spark to " + task
              + ", as " + GptNeoConf.DEVICE + "=" + setting + " asks", null);
        }
      }
    }
    String why = ordinals.length == 1 ? "gpu " + ordinals[0] + " assigned by Spark to " + task
        : "gpus " + list + " assigned by Spark to " + task + "; using the first";
    String warning = !explicit ? null : GptNeoConf.DEVICE + "=" + setting + " names gpu " + parsed.deviceIndex
        + ", but Spark assigned gpu " + list + "; using Spark's assignment (the cluster manager isolates GPUs). "
        + "Drop the :" + parsed.deviceIndex + ", or turn off Spark's GPU scheduling (spark.task.resource.gpu.amount) "
        + "to pick GPUs yourself";
    return new GpuAssignment(device, ordinals[0], why, warning);
  }

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GpuAssignment.class);
  private static final java.util.Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet(); // once per JVM

  /** The engine options for a task under these settings: the device decided for it (logged), warnings once per JVM. */
  public static EngineOptions engineOptions(GptNeoConf conf, TaskContext task) {
    GpuAssignment gpu = decide(conf.device, sparkGpus(task), task == null ? -1 : task.taskAttemptId());
    if (gpu.warning != null && WARNED.add(gpu.warning)) {
      LOG.warn(gpu.warning);
    }
    if (gpu.device.equals("cpu")) {
      LOG.debug("engines on cpu ({})", gpu.reason);
    } else {
      LOG.info("engines on {} ({})", gpu.key(), gpu.reason);
    }
    return gpu.apply(conf.engineOptions());
  }

  /** The GPU addresses Spark assigned to a task (empty for none, or outside a task). */
  public static List<String> sparkGpus(TaskContext task) {
    if (task == null) {
      return List.of();
    }
    ResourceInformation gpus = task.resourcesJMap().get(GPU);
    return gpus == null ? List.of() : List.of(gpus.addresses());
  }

  /** The engine options for this device: {@code base} with the device and GPU ordinal replaced. */
  public EngineOptions apply(EngineOptions base) {
    return base.toBuilder().device(device).deviceIndex(index).build();
  }

  /** The device as the engine cache names it: cpu, or cuda:N / auto:N. */
  public String key() {
    return key(device, index);
  }

  static String key(String device, int index) {
    return device.equals("cpu") ? "cpu" : device + ":" + index;
  }

  private static int ordinal(String address, String setting, String task) {
    String a = address.trim();
    if (a.matches("\\d{1,9}")) {
      return Integer.parseInt(a);
    }
    throw new IllegalArgumentException("Spark assigned GPU address '" + address + "' to " + task + ", but "
        + GptNeoConf.DEVICE + "=" + setting + " needs CUDA device ordinals (0, 1, ...): make the GPU discovery "
        + "script (spark.executor.resource.gpu.discoveryScript, or spark.worker.resource.gpu.discoveryScript in "
        + "standalone mode) print them, as Spark's getGpusResources.sh does with nvidia-smi --query-gpu=index");
  }

  @Override
  public String toString() {
    return key() + " (" + reason + ")";
  }
}
