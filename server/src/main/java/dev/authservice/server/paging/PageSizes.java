package dev.authservice.server.paging;

import dev.authservice.server.core.ServiceException;

/** AIP-158 page sizes: 0 means the default, larger values are capped, negative is an error. */
public final class PageSizes {
  public static final int DEFAULT_PAGE_SIZE = 50;
  public static final int MAX_PAGE_SIZE = 1000;

  private PageSizes() {}

  public static int pageSize(int requested) {
    if (requested < 0) {
      throw ServiceException.invalid("page_size must not be negative");
    }
    if (requested == 0) {
      return DEFAULT_PAGE_SIZE;
    }
    return Math.min(requested, MAX_PAGE_SIZE);
  }
}
