package io.redsync.samples.boot;

import org.springframework.integration.support.locks.LockRegistry;
import org.springframework.stereotype.Service;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

/** The README's lock-registry example: the starter's {@code LockRegistry} bean is a RedsyncLockRegistry. */
@Service
public class InvoiceService {
    private final LockRegistry<?> locks;

    InvoiceService(LockRegistry<?> locks) {
        this.locks = locks;
    }

    /**
     * Settles an invoice unless another instance is settling it.
     *
     * @param invoice the invoice's id
     * @return whether this call settled it
     * @throws InterruptedException if interrupted while waiting for the lock
     */
    // region README lock-registry
    public boolean settle(String invoice) throws InterruptedException {
        Lock lock = locks.obtain("invoice:" + invoice);
        if (!lock.tryLock(2, TimeUnit.SECONDS)) {
            return false; // another thread or instance holds it
        }
        try {
            // ... work no other instance does at the same time (the lease is kept alive meanwhile) ...
            return true;
        } finally {
            lock.unlock();
        }
    }
    // endregion
}
