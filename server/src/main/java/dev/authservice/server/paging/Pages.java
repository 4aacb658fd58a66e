package dev.authservice.server.paging;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.BiFunction;
import java.util.function.Function;

/** Reads a sequence a page at a time, each page after the key of the last item before it, until a short page. */
public final class Pages {
  private Pages() {}

  /**
   * @param after where to start (exclusive)
   * @param fetch a page of at most {@code size} items after the given key
   * @param key the key of an item, to fetch the next page after it
   */
  public static <T, K> Iterator<T> after(K after, BiFunction<K, Integer, List<T>> fetch, Function<T, K> key, int size) {
    return new Iterator<>() {
      private List<T> page = List.of();
      private int at;
      private K last = after;
      private boolean done;

      @Override
      public boolean hasNext() {
        if (at < page.size()) {
          return true;
        }
        if (done) {
          return false;
        }
        page = fetch.apply(last, size);
        at = 0;
        done = page.size() < size;
        if (!page.isEmpty()) {
          last = key.apply(page.get(page.size() - 1));
        }
        return !page.isEmpty();
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return page.get(at++);
      }
    };
  }
}
