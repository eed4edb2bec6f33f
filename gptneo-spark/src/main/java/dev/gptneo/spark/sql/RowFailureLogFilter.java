package dev.gptneo.spark.sql;

import dev.gptneo.spark.execution.GptNeoRowException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.logging.log4j.core.Filter;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.filter.AbstractFilter;
import org.apache.logging.log4j.core.filter.CompositeFilter;

/**
 * bin/gptneo-sql only: drops the stack traces Spark's executor and scheduler log for a task that failed
 * on a bad row (a {@link GptNeoRowException}), and the scheduler's "Task N in stage S failed K times;
 * aborting job" line that follows for that task. The row's message already says the problem and the
 * fix, and gptneo-sql prints it once when the statement fails. Other task failures keep their logs.
 */
final class RowFailureLogFilter extends AbstractFilter {
  private static final Pattern LOST = Pattern.compile("^Lost task (\\d+)\\.\\d+ in stage (\\S+) ");
  private static final Pattern ABORTING =
      Pattern.compile("^Task (\\d+) in stage (\\S+) failed \\d+ times?; aborting job");
  /** "task stage" of the tasks whose loss was a row failure: their abort line is dropped too. */
  private final Set<String> rowFailedTasks = ConcurrentHashMap.newKeySet();

  /** The loggers that report a failed task: "Exception in task ..." and "Lost task ...". */
  static final List<String> TASK_FAILURE_LOGGERS =
      List.of("org.apache.spark.executor.Executor", "org.apache.spark.scheduler.TaskSetManager");

  RowFailureLogFilter() {
    super(Filter.Result.DENY, Filter.Result.NEUTRAL);
  }

  /** Adds the filter to the task-failure loggers of the current log4j2 configuration (once). */
  static void install() {
    if (!(org.apache.logging.log4j.LogManager.getContext(false) instanceof LoggerContext)) {
      return; // another logging backend: leave it alone
    }
    LoggerContext context = (LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
    Configuration config = context.getConfiguration();
    RowFailureLogFilter filter = new RowFailureLogFilter();
    filter.start();
    for (String name : TASK_FAILURE_LOGGERS) {
      LoggerConfig own = config.getLoggerConfig(name);
      if (!own.getName().equals(name)) { // inherited: give the logger its own config, same level and appenders
        own = new LoggerConfig(name, null, true);
        config.addLogger(name, own);
      }
      if (!hasRowFailureFilter(own.getFilter())) {
        own.addFilter(filter);
      }
    }
    context.updateLoggers();
  }

  private static boolean hasRowFailureFilter(Filter filter) {
    if (filter instanceof CompositeFilter) {
      return Arrays.stream(((CompositeFilter) filter).getFiltersArray())
          .anyMatch(RowFailureLogFilter::hasRowFailureFilter);
    }
    return filter instanceof RowFailureLogFilter;
  }

  @Override
  public Filter.Result filter(LogEvent event) {
    String message = event.getMessage() == null ? "" : event.getMessage().getFormattedMessage();
    if (isRowFailure(event)) {
      Matcher lost = LOST.matcher(message);
      if (lost.find()) {
        rowFailedTasks.add(lost.group(1) + " " + lost.group(2));
      }
      return onMatch;
    }
    Matcher aborting = ABORTING.matcher(message);
    return aborting.find() && rowFailedTasks.remove(aborting.group(1) + " " + aborting.group(2)) ? onMatch
        : onMismatch;
  }

  static boolean isRowFailure(LogEvent event) {
    for (Throwable t = event.getThrown(); t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof GptNeoRowException) {
        return true;
      }
    }
    // TaskSetManager puts the failure, class name and stack trace, into the message text.
    String message = event.getMessage() == null ? null : event.getMessage().getFormattedMessage();
    return message != null && message.contains(GptNeoRowException.class.getName() + ":");
  }
}
