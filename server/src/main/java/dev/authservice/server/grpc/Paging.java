package dev.authservice.server.grpc;

import dev.authservice.server.error.ServiceException;

/** AIP-158 page sizes: 0 means the default, larger values are capped, negative is an error. */
final class Paging {
  static final int DEFAULT_PAGE_SIZE = 50;
  static final int MAX_PAGE_SIZE = 1000;

  private Paging() {}

  static int pageSize(int requested) {
    if (requested < 0) {
      throw ServiceException.invalid("page_size must not be negative");
    }
    if (requested == 0) {
      return DEFAULT_PAGE_SIZE;
    }
    return Math.min(requested, MAX_PAGE_SIZE);
  }
}
