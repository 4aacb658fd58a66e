package dev.authservice.server.storage.mongo;

import com.mongodb.MongoException;
import com.mongodb.MongoNotPrimaryException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;
import dev.authservice.server.core.ServiceException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the driver's ways of saying "the store is not there right now" (no server selected in
 * time, a broken socket, a primary that stepped down) into the domain's UNAVAILABLE, at the
 * boundary of every store port, so nothing above the adapters knows the driver.
 */
final class StoreOutages {
  private static final Logger log = LoggerFactory.getLogger(StoreOutages.class);

  private StoreOutages() {}

  /** The port, answering UNAVAILABLE where the store is unreachable. */
  static <T> T guard(Class<T> port, T adapter) {
    InvocationHandler handler = (proxy, method, args) -> {
      try {
        return method.invoke(adapter, args);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (isOutage(cause)) {
          log.warn("store unavailable: {}", cause.toString());
          throw new ServiceException(ServiceException.Kind.UNAVAILABLE, "the store is unavailable; retry shortly",
              cause);
        }
        throw cause;
      }
    };
    return port.cast(Proxy.newProxyInstance(port.getClassLoader(), new Class<?>[] {port}, handler));
  }

  static boolean isOutage(Throwable e) {
    return e instanceof MongoTimeoutException || e instanceof MongoSocketException
        || e instanceof MongoNotPrimaryException
        || (e instanceof MongoException me && me.hasErrorLabel(MongoException.TRANSIENT_TRANSACTION_ERROR_LABEL));
  }
}
